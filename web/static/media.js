// The PeerConnection to the room's bridge, negotiated with the "perfect
// negotiation" pattern (MDN, WebRTC API, Perfect negotiation). The client is
// the polite peer: when both sides offer at once, it rolls its own offer back
// and answers the bridge's, as docs/protocol.md requires; once stable again the
// browser fires negotiationneeded if our offer is still needed.

import { Publisher } from './publish.js';
import { msidByMid, sourceKind } from './sdp.js';
import { peerOptions, watchPath } from './netcheck.js';

export class Peer {
  /** The RTCPeerConnection, for stats. */
  pc;
  /** What this client sends (publish.js). */
  publisher;
  /** The data channel "parley" to the bridge (bridge.js speaks over it). */
  channel;

  #send;
  #polite = true;
  #makingOffer = false;
  #ignoreOffer = false;
  #queue = Promise.resolve();
  #early = []; // candidates that came before the first remote description

  /**
   * iceServers: from the joined message. stream: the local tracks (may be empty).
   * send(msg): sends a signaling message. onTrack({participant, source, kind},
   * track, stream): a remote track started; participant is its MediaStream id
   * (the publisher's id), source the source id and kind 'audio', 'video' (the
   * camera) or 'screen'. onState(connectionState): the PeerConnection's state changed.
   */
  constructor({ iceServers, stream, send, onTrack, onState }) {
    this.#send = send;
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', ...peerOptions() });
    this.pc = pc;
    watchPath(pc);
    this.publisher = new Publisher(pc, stream);
    // Always create it, so that a client without devices still has something to offer.
    this.channel = pc.createDataChannel('parley');

    pc.onnegotiationneeded = () => this.#offer();
    pc.onicecandidate = ({ candidate }) => {
      // A null candidate ends gathering; the protocol says so with an empty string.
      send({ type: 'candidate', candidate: candidate ? candidate.toJSON() : { candidate: '' } });
    };
    pc.ontrack = ({ track, streams, transceiver }) => {
      // The bridge may reuse a transceiver for someone else: the stream id at this
      // moment says whose the track is now, and the SDP being applied which source.
      const owner = streams[0];
      if (!owner) return;
      const msid = msidByMid(pc.remoteDescription?.sdp).get(transceiver?.mid);
      const participant = msid?.stream ?? owner.id;
      const source = msid?.track ?? `${participant}-${track.kind}`;
      onTrack({ participant, source, kind: sourceKind(source, participant, track.kind) }, track, owner);
    };
    pc.onconnectionstatechange = () => onState?.(pc.connectionState);
  }

  /** Handles an offer, answer or candidate from the server. */
  receive(msg) {
    // One at a time, in arrival order, so that an answer is never computed
    // against an offer that a later message has already replaced.
    this.#queue = this.#queue
      .then(() => (msg.type === 'candidate' ? this.#candidate(msg.candidate) : this.#description(msg)))
      .catch((err) => console.warn(`parley: handling ${msg.type} failed:`, err));
    return this.#queue;
  }

  close() {
    this.channel.close();
    this.pc.close();
  }

  async #offer() {
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      // Mids are known only now: an offer assigns them to new transceivers.
      this.#send({ type: 'offer', sdp: this.pc.localDescription.sdp, tracks: this.publisher.tracks() });
    } catch (err) {
      console.warn('parley: making an offer failed:', err);
    } finally {
      this.#makingOffer = false;
    }
  }

  async #description({ type, sdp }) {
    const collision = type === 'offer' && (this.#makingOffer || this.pc.signalingState !== 'stable');
    this.#ignoreOffer = !this.#polite && collision;
    if (this.#ignoreOffer) return;
    // An answer to an offer we have rolled back has nothing left to apply to.
    if (type === 'answer' && this.pc.signalingState !== 'have-local-offer') return;
    // On a collision this rolls our own offer back first (implicit rollback).
    await this.pc.setRemoteDescription({ type, sdp });
    for (const candidate of this.#early.splice(0)) await this.#candidate(candidate);
    if (type === 'offer') {
      await this.pc.setLocalDescription();
      this.#send({ type: 'answer', sdp: this.pc.localDescription.sdp });
    }
    // Applying a description turns every simulcast layer back on.
    if (this.pc.signalingState === 'stable') this.publisher.reapply();
  }

  async #candidate(candidate) {
    // The bridge may trickle before its answer has reached us: keep those until it has.
    if (!this.pc.remoteDescription) {
      this.#early.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      // Candidates of an offer we ignored are expected to fail.
      if (!this.#ignoreOffer) console.warn('parley: adding a candidate failed:', err);
    }
  }
}
