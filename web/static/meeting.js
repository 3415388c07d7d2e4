// One stay in a room: the signaling session, the PeerConnection to the bridge,
// the bridge channel and what the layout shows. It begins with start() and ends
// with leave() or with the first fatal error, which it reports through onEnd.

import { Signaling, socketURL } from './signaling.js';
import { Peer } from './media.js';
import { BridgeChannel } from './bridge.js';
import { captureScreen } from './screen.js';
import { sourceKind } from './sdp.js';

const DEFAULT_MAX_HEIGHT = 180;

// Server messages about the room rather than the media: they go to onMessage.
const ROOM_MESSAGES = ['chat', 'room-state', 'lobby-waiting', 'lobby-request', 'lobby-left', 'muted', 'unmute-request'];

export class Meeting {
  /** Your participant id once joined. */
  you = null;

  #room;
  #name;
  #media;
  #prefs;
  #layout;
  #controls;
  #onEnd;
  #onNotice;
  #onNoticeClear;
  #onMessage;
  #onPeople;
  #credentials; // {token, password} for join
  #self = null; // our participant record as the server last described it
  #sig = new Signaling();
  #peer = null;
  #bridge = null;
  #iceServers = [];
  #reconnectAt = 0; // when we last asked for a fresh media connection (ms)
  #ended = false;
  #screen = null; // our screen share's track while sharing
  #people = new Map(); // participant id → {id, name, audioMuted, videoMuted}; others only
  #tracks = new Map(); // participant id → {audio, video, screen}: their remote tracks
  #owner = new Map(); // track id → {participant, kind}, as of the track's last ontrack

  /**
   * media: the LocalMedia; prefs: {audio, video} (whether each device should be on);
   * layout, controls: the meeting screen's parts; onEnd(code, detail): a fatal error;
   * onNotice(code, detail): a problem worth showing that does not end the meeting;
   * onNoticeClear(code): that problem went away.
   * token, password: go with the join. onMessage(msg): joined, the ROOM_MESSAGES
   * and errors; returns true if it dealt with an error. onPeople(self, others):
   * someone's state (role, hand, mute) or the set of participants changed.
   */
  constructor({ room, name, media, prefs, layout, controls, onEnd, onNotice, onNoticeClear, token, password, onMessage = () => false, onPeople = () => {} }) {
    this.#credentials = { token, password };
    this.#onMessage = onMessage;
    this.#onPeople = onPeople;
    this.#room = room;
    this.#name = name;
    this.#media = media;
    this.#prefs = prefs;
    this.#layout = layout;
    this.#controls = controls;
    this.#onEnd = onEnd;
    this.#onNotice = onNotice;
    this.#onNoticeClear = onNoticeClear;
  }

  /** Connects and joins; throws a SignalingError if that fails. */
  async start() {
    const sig = this.#sig;
    await sig.open(socketURL());
    sig
      .on('participant-joined', ({ participant }) => this.#upsert(participant))
      .on('participant-updated', ({ participant }) => this.#upsert(participant))
      .on('participant-left', ({ id }) => this.#removeParticipant(id))
      .on('offer', (msg) => this.#peer?.receive(msg))
      .on('answer', (msg) => this.#peer?.receive(msg))
      .on('candidate', (msg) => this.#peer?.receive(msg))
      .on('error', (msg) => this.#onMessage(msg) || this.#onNotice(msg.code || 'unknown', msg.message))
      .on('restart', () => this.#restartMedia())
      .on('ice-servers', ({ iceServers }) => this.#setIceServers(iceServers))
      .on('closed', ({ reason }) => this.#end('closed', reason));
    for (const type of ROOM_MESSAGES) sig.on(type, (msg) => this.#onMessage(msg));

    let joined;
    try {
      joined = await sig.join(this.#room, this.#name, this.#credentials);
    } catch (err) {
      this.#teardown();
      throw err;
    }
    if (this.#ended) return;
    sig.onclose = () => this.#end('connection-lost');
    // No await from here to the PeerConnection: the bridge's first offer may be next.
    this.you = joined.you.id;
    this.#name = joined.you.name;
    this.#self = joined.you;
    this.#onMessage(joined);
    for (const p of joined.participants ?? []) this.#upsert(p);
    this.#renderSelf();
    this.#sendMute();
    this.#iceServers = joined.iceServers ?? [];
    this.#connectMedia();
  }

  /** Makes the PeerConnection to the bridge and the bridge channel on it. */
  #connectMedia() {
    const sig = this.#sig;
    try {
      this.#peer = new Peer({
        iceServers: this.#iceServers,
        stream: this.#media.stream,
        send: (msg) => sig.send(msg),
        onTrack: (source, track, stream) => this.#attach(source, track, stream),
        onState: (state) => this.#onPeerState(state),
      });
    } catch (err) {
      console.warn('parley: cannot create a PeerConnection:', err);
      this.#onNotice('webrtc-unsupported');
      return;
    }
    this.#bridge = new BridgeChannel(this.#peer.channel, () => this.#constraints(), {
      onSpeaker: (id, speakers) => this.#layout.setSpeakers(id, speakers),
      onForwarded: () => this.#renderAll(),
      onLayers: (source, active) => this.#setLayers(source, active),
    });
    if (this.#screen) this.#peer.publisher.startScreen(this.#screen);
  }

  /**
   * The server moved our media to another bridge (the old one failed or is
   * draining): start over with a new PeerConnection; the room stays.
   */
  #restartMedia() {
    if (this.#ended) return;
    this.#peer?.close();
    this.#peer = null;
    this.#bridge = null;
    this.#connectMedia();
  }

  /**
   * Fresh STUN/TURN servers (new TURN credentials, before the old ones expire): the
   * PeerConnection gathers with them from now on, and a new one starts with them.
   */
  #setIceServers(iceServers) {
    this.#iceServers = iceServers ?? [];
    const pc = this.#peer?.pc;
    if (!pc) return;
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.#iceServers });
    } catch (err) {
      console.warn('parley: taking the fresh ICE servers failed:', err);
    }
  }

  /** The other participants, for window.parley.participants(). */
  participants() {
    return [...this.#people.values()].map(({ id, name, audioMuted, videoMuted, role, handRaisedAt = 0 }) => ({ id, name, audioMuted, videoMuted, role, handRaisedAt }));
  }

  /** Ourselves as the others see us ({id, name, role, handRaisedAt, ...}), our devices as they are here. */
  self() {
    if (!this.#self) return null;
    return { ...this.#self, audioMuted: this.#muted('audio'), videoMuted: this.#muted('video') };
  }

  /** Sends a message to the server (chat, hand, moderate). */
  send(msg) {
    this.#sig.send(msg);
  }

  /** What the bridge channel last said and was told, for the test hooks. */
  get bridge() {
    return this.#bridge;
  }

  /** {tracks: [{mid, source}], layers: {video: [bool...], screen: [...]}} of what we send. */
  publishing() {
    const publisher = this.#peer?.publisher;
    return { tracks: publisher?.tracks() ?? [], layers: publisher?.layers() ?? {} };
  }

  /**
   * Sums inbound-rtp stats per remote participant, for window.parley.stats():
   * camera frames, audio packets, screen share frames, the camera's last frame height and
   * its packets and bytes received and packets lost.
   */
  async stats() {
    const out = {};
    for (const id of this.#people.keys()) {
      out[id] = { framesDecoded: 0, audioPacketsReceived: 0, screenFramesDecoded: 0, frameHeight: 0, videoPacketsReceived: 0, videoBytesReceived: 0, videoPacketsLost: 0 };
    }
    if (!this.#peer) return out;
    const report = await this.#peer.pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const owner = this.#owner.get(s.trackIdentifier);
      const sum = out[owner?.participant];
      if (!sum) return;
      if (owner.kind === 'screen') sum.screenFramesDecoded += s.framesDecoded ?? 0;
      else if (owner.kind === 'video') {
        sum.framesDecoded += s.framesDecoded ?? 0;
        sum.videoPacketsReceived += s.packetsReceived ?? 0;
        sum.videoBytesReceived += s.bytesReceived ?? 0;
        sum.videoPacketsLost += s.packetsLost ?? 0;
        if (this.#tracks.get(owner.participant)?.video?.id === s.trackIdentifier) sum.frameHeight = s.frameHeight ?? 0;
      } else sum.audioPacketsReceived += s.packetsReceived ?? 0;
    });
    return out;
  }

  /**
   * The video we send as the encoder sends it now: {rid (or 'mid<mid>' for a stream
   * without layers): frameHeight} (0 before a frame).
   */
  async sentHeights() {
    const out = {};
    if (!this.#peer) return out;
    const report = await this.#peer.pc.getStats();
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') out[s.rid ?? `mid${s.mid}`] = s.frameHeight ?? 0;
    });
    return out;
  }

  /** Turns the microphone ('audio') or camera ('video') on or off without renegotiating. */
  setDevice(kind, on) {
    this.#prefs[kind] = on;
    this.#media.setEnabled(kind, on);
    this.#sendMute();
    this.#renderSelf();
  }

  /** Sends another camera or microphone in place of the current one; returns the media problem, if any. */
  async switchDevice(kind, deviceId) {
    await this.#media.switchDevice(kind, deviceId);
    if (this.#ended) return null;
    this.#media.setEnabled(kind, this.#prefs[kind]);
    try {
      await this.#peer?.publisher.replace(kind, this.#media.track(kind));
    } catch (err) {
      console.warn(`parley: sending the new ${kind} device failed:`, err);
    }
    this.#sendMute();
    this.#renderSelf();
    return this.#media.problem;
  }

  /** Starts or stops sharing the screen; resolves whether we share afterwards. */
  async setScreen(on) {
    if (!on || !this.#peer) {
      this.#stopScreen();
      return false;
    }
    if (this.#screen) return true;
    let track;
    try {
      track = await captureScreen();
    } catch (err) {
      console.warn('parley: screen capture failed:', err);
      this.#onNotice('screen-failed', err.message);
    }
    if (!track) return false;
    if (this.#ended || this.#screen) {
      track.stop();
      return !!this.#screen;
    }
    this.#screen = track;
    // The browser's own "stop sharing" ends the track.
    track.addEventListener('ended', () => {
      if (this.#screen === track) this.#stopScreen();
    });
    this.#peer.publisher.startScreen(track);
    this.#renderSelf();
    return true;
  }

  /** Tells the bridge channel that the layout changed. */
  layoutChanged() {
    this.#bridge?.scheduleConstraints();
  }

  leave() {
    if (this.#ended) return;
    this.#sig.send({ type: 'leave' });
    this.#teardown();
  }

  #stopScreen() {
    const track = this.#screen;
    this.#screen = null;
    track?.stop();
    this.#peer?.publisher.stopScreen();
    this.#renderSelf();
  }

  #constraints() {
    const view = this.#layout.constraints();
    if (!view) return null;
    return { type: 'constraints', lastN: -1, onStage: view.onStage, maxHeight: view.maxHeight, defaultMaxHeight: DEFAULT_MAX_HEIGHT };
  }

  #setLayers(source, active) {
    if (!source.startsWith(`${this.you}-`)) return; // not ours: nothing to do
    this.#peer?.publisher.setLayers(sourceKind(source, this.you, 'video'), active);
  }

  #muted(kind) {
    return !this.#prefs[kind] || !this.#media.track(kind);
  }

  #sendMute() {
    this.#sig.send({ type: 'mute', audio: this.#muted('audio'), video: this.#muted('video') });
  }

  #renderSelf() {
    if (!this.you) return;
    if (this.#ended) return;
    const common = { participant: this.you, self: true, name: this.#name };
    this.#layout.update(`${this.you}-video`, {
      ...common,
      audioMuted: this.#muted('audio'),
      videoMuted: this.#muted('video'),
      hand: !!this.#self?.handRaisedAt,
      tracks: this.#media.stream.getVideoTracks(),
    });
    if (this.#screen) this.#layout.update(`${this.you}-screen`, { ...common, kind: 'screen', tracks: [this.#screen] });
    else this.#layout.remove(`${this.you}-screen`);
    this.#controls.setMic(this.#prefs.audio, !!this.#media.track('audio'));
    this.#controls.setCam(this.#prefs.video, !!this.#media.track('video'));
    this.#controls.setScreen(!!this.#screen);
    this.#peopleChanged();
  }

  #peopleChanged() {
    this.#onPeople(this.self(), [...this.#people.values()]);
  }

  #upsert(participant) {
    if (!participant?.id) return;
    // About us: a new role, our hand, a moderator's mute, a name from a fresh token.
    if (participant.id === this.you) {
      this.#self = { ...this.#self, ...participant };
      this.#name = this.#self.name;
      this.#renderSelf();
      return;
    }
    this.#people.set(participant.id, { ...this.#people.get(participant.id), ...participant });
    this.#render(participant.id);
    this.#peopleChanged();
  }

  #removeParticipant(id) {
    this.#people.delete(id);
    for (const track of Object.values(this.#tracks.get(id) ?? {})) if (track) this.#owner.delete(track.id);
    this.#tracks.delete(id);
    this.#layout.remove(`${id}-video`);
    this.#layout.remove(`${id}-screen`);
    this.#peopleChanged();
  }

  // The bridge may not forward a source (last-N, bandwidth); its tile then shows the initials.
  #forwarded(source) {
    const sources = this.#bridge?.forwarded;
    if (!sources) return true;
    return Object.hasOwn(sources, source) && !this.#bridge.suspended.includes(source);
  }

  #renderAll() {
    for (const id of this.#people.keys()) this.#render(id);
  }

  // Tracks may come before participant-joined or after participant-left; only
  // known participants get a tile, and a late participant-joined shows what came.
  #render(id) {
    const p = this.#people.get(id);
    if (!p || this.#ended) return;
    const slot = this.#tracks.get(id) ?? {};
    const common = { participant: id, name: p.name };
    const camera = `${id}-video`;
    this.#layout.update(camera, {
      ...common,
      audioMuted: p.audioMuted,
      videoMuted: p.videoMuted,
      hand: !!p.handRaisedAt,
      tracks: [slot.audio, slot.video].filter(Boolean),
      forwarded: this.#forwarded(camera),
    });
    const screen = `${id}-screen`;
    if (slot.screen) this.#layout.update(screen, { ...common, kind: 'screen', tracks: [slot.screen], forwarded: this.#forwarded(screen) });
    else this.#layout.remove(screen);
  }

  #attach({ participant, kind }, track, stream) {
    // A reused transceiver brings the same track object for a new owner.
    this.#detach(track);
    const slot = this.#tracks.get(participant) ?? { audio: null, video: null, screen: null };
    slot[kind] = track;
    this.#tracks.set(participant, slot);
    this.#owner.set(track.id, { participant, kind });
    // The bridge mutes a track when it stops forwarding and ends it when it removes it.
    track.onmute = track.onunmute = () => this.#render(this.#owner.get(track.id)?.participant);
    track.onended = () => this.#detach(track);
    stream.onremovetrack = ({ track: removed }) => {
      if (this.#owner.get(removed.id)?.participant === stream.id) this.#detach(removed);
    };
    this.#render(participant);
  }

  #detach(track) {
    const owner = this.#owner.get(track.id);
    if (!owner) return;
    this.#owner.delete(track.id);
    const slot = this.#tracks.get(owner.participant);
    if (slot?.[owner.kind] === track) slot[owner.kind] = null;
    this.#render(owner.participant);
  }

  /**
   * A failed connection (a network change, a connection the bridge cut off) asks the
   * server for a fresh one, at most every 10 s; the server answers with restart.
   */
  #onPeerState(state) {
    if (state === 'failed') {
      this.#onNotice('webrtc-failed');
      const now = Date.now();
      if (!this.#ended && now - this.#reconnectAt > 10000) {
        this.#reconnectAt = now;
        this.#sig.send({ type: 'reconnect', reason: 'the media connection failed' });
      }
    } else if (state === 'connected') this.#onNoticeClear('webrtc-failed');
  }

  #end(code, detail = '') {
    if (this.#ended) return;
    this.#teardown();
    this.#onEnd(code, detail);
  }

  #teardown() {
    this.#ended = true;
    this.#screen?.stop();
    this.#screen = null;
    this.#controls.setScreen(false);
    this.#sig.close();
    this.#bridge?.close();
    this.#peer?.close();
    this.#layout.clear();
  }
}
