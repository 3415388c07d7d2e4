// One stay in a room: the signaling session, the PeerConnection to the bridge and
// what the grid shows. It begins with start() and ends with leave() or with the
// first fatal error, which it reports through onEnd.

import { Signaling, socketURL } from './signaling.js';
import { Peer } from './media.js';

export class Meeting {
  /** Your participant id once joined. */
  you = null;

  #room;
  #name;
  #media;
  #prefs;
  #grid;
  #controls;
  #onEnd;
  #onNotice;
  #onNoticeClear;
  #sig = new Signaling();
  #peer = null;
  #ended = false;
  #people = new Map(); // participant id → {id, name, audioMuted, videoMuted}; others only
  #tracks = new Map(); // participant id → {audio, video}: their remote tracks
  #owner = new Map(); // track id → participant id, as of the track's last ontrack

  /**
   * media: the LocalMedia; prefs: {audio, video} (whether each device should be on);
   * grid, controls: the meeting screen's parts; onEnd(code, detail): a fatal error;
   * onNotice(code, detail): a problem worth showing that does not end the meeting;
   * onNoticeClear(code): that problem went away.
   */
  constructor({ room, name, media, prefs, grid, controls, onEnd, onNotice, onNoticeClear }) {
    this.#room = room;
    this.#name = name;
    this.#media = media;
    this.#prefs = prefs;
    this.#grid = grid;
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
      .on('error', ({ code, message }) => this.#onNotice(code || 'unknown', message))
      .on('closed', ({ reason }) => this.#end('closed', reason));

    let joined;
    try {
      joined = await sig.join(this.#room, this.#name);
    } catch (err) {
      this.#teardown();
      throw err;
    }
    if (this.#ended) return;
    sig.onclose = () => this.#end('connection-lost');
    // No await from here to the PeerConnection: the bridge's first offer may be next.
    this.you = joined.you.id;
    this.#name = joined.you.name;
    for (const p of joined.participants ?? []) this.#upsert(p);
    this.#renderSelf();
    this.#sendMute();
    try {
      this.#peer = new Peer({
        iceServers: joined.iceServers ?? [],
        stream: this.#media.stream,
        send: (msg) => sig.send(msg),
        onTrack: (id, track, stream) => this.#attach(id, track, stream),
        onState: (state) => this.#onPeerState(state),
      });
    } catch (err) {
      console.warn('parley: cannot create a PeerConnection:', err);
      this.#onNotice('webrtc-unsupported');
    }
  }

  /** The other participants, for window.parley.participants(). */
  participants() {
    return [...this.#people.values()].map(({ id, name, audioMuted, videoMuted }) => ({ id, name, audioMuted, videoMuted }));
  }

  /** Sums inbound-rtp stats per remote participant, for window.parley.stats(). */
  async stats() {
    const out = {};
    for (const id of this.#people.keys()) out[id] = { framesDecoded: 0, audioPacketsReceived: 0 };
    if (!this.#peer) return out;
    const report = await this.#peer.pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const sum = out[this.#owner.get(s.trackIdentifier)];
      if (!sum) return;
      if ((s.kind ?? s.mediaType) === 'video') sum.framesDecoded += s.framesDecoded ?? 0;
      else sum.audioPacketsReceived += s.packetsReceived ?? 0;
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

  leave() {
    if (this.#ended) return;
    this.#sig.send({ type: 'leave' });
    this.#teardown();
  }

  #muted(kind) {
    return !this.#prefs[kind] || !this.#media.track(kind);
  }

  #sendMute() {
    this.#sig.send({ type: 'mute', audio: this.#muted('audio'), video: this.#muted('video') });
  }

  #renderSelf() {
    if (!this.you) return;
    this.#grid.update(this.you, {
      name: this.#name,
      self: true,
      audioMuted: this.#muted('audio'),
      videoMuted: this.#muted('video'),
      tracks: this.#media.stream.getVideoTracks(),
    });
    this.#controls.setMic(this.#prefs.audio, !!this.#media.track('audio'));
    this.#controls.setCam(this.#prefs.video, !!this.#media.track('video'));
  }

  #upsert(participant) {
    if (!participant?.id || participant.id === this.you) return;
    this.#people.set(participant.id, { ...this.#people.get(participant.id), ...participant });
    this.#render(participant.id);
  }

  #removeParticipant(id) {
    this.#people.delete(id);
    for (const track of Object.values(this.#tracks.get(id) ?? {})) if (track) this.#owner.delete(track.id);
    this.#tracks.delete(id);
    this.#grid.remove(id);
  }

  // Tracks may come before participant-joined or after participant-left; only
  // known participants get a tile, and a late participant-joined shows what came.
  #render(id) {
    const p = this.#people.get(id);
    if (!p) return;
    const slot = this.#tracks.get(id) ?? {};
    this.#grid.update(id, {
      name: p.name,
      audioMuted: p.audioMuted,
      videoMuted: p.videoMuted,
      tracks: [slot.audio, slot.video].filter(Boolean),
    });
  }

  #attach(id, track, stream) {
    // A reused transceiver brings the same track object for a new owner.
    this.#detach(track);
    const slot = this.#tracks.get(id) ?? { audio: null, video: null };
    slot[track.kind] = track;
    this.#tracks.set(id, slot);
    this.#owner.set(track.id, id);
    // The bridge mutes a track when it stops forwarding and ends it when it removes it.
    track.onmute = track.onunmute = () => this.#render(this.#owner.get(track.id));
    track.onended = () => this.#detach(track);
    stream.onremovetrack = ({ track: removed }) => {
      if (this.#owner.get(removed.id) === id) this.#detach(removed);
    };
    this.#render(id);
  }

  #detach(track) {
    const id = this.#owner.get(track.id);
    if (id === undefined) return;
    this.#owner.delete(track.id);
    const slot = this.#tracks.get(id);
    if (slot?.[track.kind] === track) slot[track.kind] = null;
    this.#render(id);
  }

  #onPeerState(state) {
    if (state === 'failed') this.#onNotice('webrtc-failed');
    else if (state === 'connected') this.#onNoticeClear('webrtc-failed');
  }

  #end(code, detail = '') {
    if (this.#ended) return;
    this.#teardown();
    this.#onEnd(code, detail);
  }

  #teardown() {
    this.#ended = true;
    this.#sig.close();
    this.#peer?.close();
    this.#grid.clear();
  }
}
