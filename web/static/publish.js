// What this client sends, as docs/protocol.md ("What a client publishes") asks:
// the microphone, the camera in three VP8 simulcast layers and, while sharing,
// the screen in one layer, each on a sendonly transceiver of its own. It also
// says what each offer's `tracks` lists and applies the bridge's `layers`.

/** The camera's simulcast layers, lowest first. A small camera drops the top ones itself. */
const CAMERA_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_700_000 },
];
const LAYER_RIDS = CAMERA_ENCODINGS.map((e) => e.rid);
const SCREEN_MAX_BITRATE = 1_500_000;
// Codecs that only accompany a media codec: retransmission and error correction.
const HELPER_CODECS = ['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03'];

// The bridge forwards VP8 only, and simulcast needs every layer in the same codec.
function preferVP8(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function') return;
  for (const caps of [RTCRtpReceiver.getCapabilities?.('video'), RTCRtpSender.getCapabilities?.('video')]) {
    const codecs = caps?.codecs ?? [];
    const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
    if (!vp8.length) continue;
    const helpers = codecs.filter((c) => HELPER_CODECS.includes(c.mimeType.toLowerCase()));
    try {
      transceiver.setCodecPreferences([...vp8, ...helpers]);
      return;
    } catch (err) {
      // Some browsers accept only one of the two capability lists: try the other.
      console.debug('parley: codec preferences refused:', err);
    }
  }
}

export class Publisher {
  #pc;
  #stream;
  #sending = new Map(); // 'audio' | 'video' | 'screen' → its live transceiver
  #wanted = new Map(); // 'video' | 'screen' → the layers the bridge last asked for
  #params = Promise.resolve(); // setParameters calls, one at a time

  /** Adds a transceiver for each track of stream (the microphone and camera). */
  constructor(pc, stream) {
    this.#pc = pc;
    this.#stream = stream;
    for (const track of stream.getTracks()) this.#add(track.kind === 'audio' ? 'audio' : 'video', track);
  }

  /** [{mid, source}] of the transceivers that send; read after setLocalDescription. */
  tracks() {
    const out = [];
    for (const [source, transceiver] of this.#sending) {
      if (transceiver.mid !== null) out.push({ mid: transceiver.mid, source });
    }
    return out;
  }

  /**
   * Sends track as the microphone ('audio') or camera ('video') instead of what
   * was sent before, without renegotiating; the first track of a kind adds its
   * transceiver, which does renegotiate. A null track sends nothing.
   */
  async replace(source, track) {
    const transceiver = this.#sending.get(source);
    if (transceiver) await transceiver.sender.replaceTrack(track);
    else if (track) this.#add(source, track);
  }

  /** Starts sending a screen share; the browser then fires negotiationneeded. */
  startScreen(track) {
    this.stopScreen();
    this.#wanted.delete('screen');
    this.#add('screen', track, new MediaStream([track]));
  }

  /**
   * Stops sending the screen share: the transceiver turns inactive, which
   * renegotiates, and is never used again, so the next share is a new m-line
   * and a new source to the bridge.
   */
  stopScreen() {
    const transceiver = this.#sending.get('screen');
    if (!transceiver) return;
    this.#sending.delete('screen');
    transceiver.sender.replaceTrack(null).catch(() => {});
    if (transceiver.direction !== 'stopped' && !transceiver.stopped) transceiver.direction = 'inactive';
  }

  /**
   * Turns the simulcast layers of one source on or off (active: booleans, lowest
   * layer first) as the bridge's `layers` message asks; no renegotiation.
   */
  setLayers(source, active) {
    if (!Array.isArray(active)) return this.#params;
    this.#wanted.set(source, active);
    return this.#apply(source);
  }

  /**
   * Applies the wanted layers again after a negotiation: applying a description
   * resets each encoding's `active` to what the SDP's simulcast line says, and
   * the bridge's SDP never pauses a layer.
   */
  reapply() {
    for (const source of this.#wanted.keys()) this.#apply(source);
    return this.#params;
  }

  #apply(source) {
    this.#params = this.#params
      .then(async () => {
        const transceiver = this.#sending.get(source);
        const active = this.#wanted.get(source);
        if (!transceiver || !active) return;
        const params = transceiver.sender.getParameters();
        let changed = false;
        (params.encodings ?? []).forEach((encoding, i) => {
          const layer = encoding.rid ? LAYER_RIDS.indexOf(encoding.rid) : i;
          const want = active[layer >= 0 ? layer : i] !== false;
          if (encoding.active !== want) {
            encoding.active = want;
            changed = true;
          }
        });
        if (changed) await transceiver.sender.setParameters(params);
      })
      .catch((err) => console.warn(`parley: setting the layers of ${source} failed:`, err));
    return this.#params;
  }

  /** {source: [active, ...]} of what each video sender encodes now, lowest layer first. */
  layers() {
    const out = {};
    for (const [source, transceiver] of this.#sending) {
      if (source === 'audio') continue;
      out[source] = (transceiver.sender.getParameters().encodings ?? []).map((e) => e.active !== false);
    }
    return out;
  }

  #add(source, track, stream = this.#stream) {
    const init = { direction: 'sendonly', streams: [stream] };
    if (source === 'video') init.sendEncodings = CAMERA_ENCODINGS.map((e) => ({ ...e }));
    if (source === 'screen') init.sendEncodings = [{ maxBitrate: SCREEN_MAX_BITRATE }];
    const transceiver = this.#pc.addTransceiver(track, init);
    if (source !== 'audio') preferVP8(transceiver);
    this.#sending.set(source, transceiver);
  }
}
