// The local camera and microphone: one MediaStream shared by the preview, the
// self tile and the PeerConnection. Failures never throw; they leave the track
// out and record a problem, because someone without devices may still join to
// watch and listen.

const KINDS = ['audio', 'video'];

function constraint(kind, deviceId) {
  // exact: browsers may ignore an ideal deviceId and pick the default device.
  const device = deviceId ? { deviceId: { exact: deviceId } } : {};
  // 720p: the top of the three simulcast layers (publish.js); a smaller camera sends fewer.
  return kind === 'video' ? { ...device, width: { ideal: 1280 }, height: { ideal: 720 } } : device;
}

function problemCode(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'media-denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'media-missing';
    default:
      return 'media-unavailable';
  }
}

export class LocalMedia {
  /** The tracks we have; replaced by start() and stop(). */
  stream = new MediaStream();
  /** {code, kinds} of the last failure ("media-denied", ["video"]), or null. */
  problem = null;

  /** The live track of a kind ('audio' or 'video'), or null. */
  track(kind) {
    return this.stream.getTracks().find((t) => t.kind === kind && t.readyState === 'live') ?? null;
  }

  get started() {
    return this.stream.getTracks().length > 0 || this.problem !== null;
  }

  /** Asks for the camera and microphone, preferring the given device ids. */
  async start({ audioDevice = '', videoDevice = '' } = {}) {
    this.stop();
    if (!navigator.mediaDevices?.getUserMedia) {
      // Browsers hide the devices from pages not served over https (or localhost).
      this.problem = { code: 'media-insecure', kinds: KINDS };
      return;
    }
    const want = { audio: constraint('audio', audioDevice), video: constraint('video', videoDevice) };
    try {
      this.#add(await navigator.mediaDevices.getUserMedia(want));
      return;
    } catch (err) {
      // A refusal covers both devices; asking again would only prompt again.
      if (problemCode(err) === 'media-denied') {
        this.problem = { code: 'media-denied', kinds: KINDS };
        return;
      }
    }
    // A remembered device may be gone, or one kind missing or busy: ask for each
    // kind alone so that the other still works.
    const failed = [];
    let code = null;
    for (const kind of KINDS) {
      try {
        this.#add(await this.#open(kind, want[kind]));
      } catch (err) {
        failed.push(kind);
        code ??= problemCode(err);
      }
    }
    this.problem = failed.length ? { code, kinds: failed } : null;
  }

  /** Replaces the track of a kind with one from the given device, keeping its on/off state. */
  async switchDevice(kind, deviceId) {
    const old = this.track(kind);
    const enabled = old ? old.enabled : true;
    // Stop first: many phones cannot open two cameras at once.
    if (old) {
      old.stop();
      this.stream.removeTrack(old);
    }
    try {
      const got = await navigator.mediaDevices.getUserMedia({ [kind]: constraint(kind, deviceId) });
      const track = got.getTracks()[0];
      track.enabled = enabled;
      this.stream.addTrack(track);
      this.problem = null;
    } catch (err) {
      this.problem = { code: problemCode(err), kinds: [kind] };
    }
  }

  /** Lists devices as {audio: [{id, label}], video: [...]}; labels may be empty before permission. */
  async devices() {
    const out = { audio: [], video: [] };
    if (!navigator.mediaDevices?.enumerateDevices) return out;
    for (const d of await navigator.mediaDevices.enumerateDevices()) {
      const kind = d.kind === 'audioinput' ? 'audio' : d.kind === 'videoinput' ? 'video' : null;
      // Without permission the list holds one anonymous entry per kind, of no use to pick from.
      if (kind && d.deviceId) out[kind].push({ id: d.deviceId, label: d.label });
    }
    return out;
  }

  /** The id of the device a kind's track comes from, or ''. */
  deviceId(kind) {
    return this.track(kind)?.getSettings().deviceId ?? '';
  }

  // Opens the wanted device of a kind, or any device of that kind if it is gone.
  async #open(kind, wanted) {
    try {
      return await navigator.mediaDevices.getUserMedia({ [kind]: wanted });
    } catch (err) {
      if (!wanted.deviceId || problemCode(err) === 'media-denied') throw err;
      return navigator.mediaDevices.getUserMedia({ [kind]: constraint(kind, '') });
    }
  }

  #add(got) {
    for (const track of got.getTracks()) this.stream.addTrack(track);
  }

  setEnabled(kind, on) {
    const track = this.track(kind);
    if (track) track.enabled = on;
  }

  /** Releases the devices, so the camera light goes off. */
  stop() {
    for (const track of this.stream.getTracks()) track.stop();
    this.stream = new MediaStream();
    this.problem = null;
  }
}
