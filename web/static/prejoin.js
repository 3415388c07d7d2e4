// The pre-join screen: display name, camera preview, choice of camera and
// microphone, whether to join with each of them on, and a test of the network.

import { text } from './strings.js';
import { normalizeName } from './names.js';
import { saveSettings } from './settings.js';
import { bindToggle, setToggle, fillDeviceSelects } from './controls.js';
import { bindNetcheck } from './netcheck.js';

const $ = (id) => document.getElementById(id);

export class Prejoin {
  #media;
  #session;
  #onJoin;
  #onMediaProblem;
  #ready = Promise.resolve();
  #els = {
    video: $('preview-video'),
    off: $('preview-off'),
    mic: $('prejoin-mic'),
    cam: $('prejoin-cam'),
    form: $('prejoin-form'),
    room: $('prejoin-room'),
    name: $('name-input'),
    nameHint: $('name-hint'),
    camera: $('camera-select'),
    microphone: $('mic-select'),
    join: $('join-button'),
  };

  /**
   * media: the LocalMedia; onJoin(): the user asked to join with session.name and
   * session.prefs set; onMediaProblem(problem): a device could not be used
   * (problem {code, kinds}) or, with null, all went well.
   */
  constructor({ media, onJoin, onMediaProblem }) {
    this.#media = media;
    this.#onJoin = onJoin;
    this.#onMediaProblem = onMediaProblem;
    const els = this.#els;
    bindToggle(els.mic, (on) => this.#setDevice('audio', on));
    bindToggle(els.cam, (on) => this.#setDevice('video', on));
    els.camera.addEventListener('change', () => this.#switch('video', els.camera.value));
    els.microphone.addEventListener('change', () => this.#switch('audio', els.microphone.value));
    els.name.addEventListener('input', () => this.#showNameError(false));
    els.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    navigator.mediaDevices?.addEventListener?.('devicechange', () => this.#session && this.#fillSelects());
    bindNetcheck($('netcheck-button'), $('netcheck-results'));
  }

  /** Shows the screen for session {room, name, prefs, devices}, starting the devices if needed. */
  show(session) {
    this.#session = session;
    const els = this.#els;
    els.room.textContent = session.room;
    els.name.value = session.name;
    els.join.disabled = false;
    this.#ready = this.#startMedia();
    return this.#ready;
  }

  /** Shows why the server refused the name, and lets the user fix it. */
  nameRefused() {
    this.#showNameError(true, text.nameRefused);
  }

  async #startMedia() {
    if (!this.#media.started) {
      this.#els.off.textContent = text.previewStarting;
      this.#els.off.hidden = false;
      await this.#media.start(this.#session.devices);
      this.#onMediaProblem(this.#media.problem);
    }
    this.#refresh();
    await this.#fillSelects();
  }

  #setDevice(kind, on) {
    this.#session.prefs[kind] = on;
    this.#media.setEnabled(kind, on);
    this.#refresh();
  }

  async #switch(kind, deviceId) {
    await this.#media.switchDevice(kind, deviceId);
    this.#onMediaProblem(this.#media.problem);
    this.#media.setEnabled(kind, this.#session.prefs[kind]);
    this.#session.devices[`${kind}Device`] = deviceId;
    saveSettings({ [`${kind}Device`]: deviceId });
    this.#refresh();
  }

  // Shows the preview, toggles and the camera-off overlay for the current tracks.
  #refresh() {
    const { video, off, mic, cam } = this.#els;
    const prefs = this.#session.prefs;
    const hasAudio = !!this.#media.track('audio');
    const hasVideo = !!this.#media.track('video');
    // A fresh object each time: the element does not notice tracks swapped inside its stream.
    video.srcObject = hasVideo ? new MediaStream(this.#media.stream.getVideoTracks()) : null;
    off.textContent = hasVideo ? text.cameraIsOff : text.noCamera;
    off.hidden = hasVideo && prefs.video;
    setToggle(mic, prefs.audio, hasAudio);
    setToggle(cam, prefs.video, hasVideo);
  }

  #fillSelects() {
    return fillDeviceSelects(this.#media, this.#els.camera, this.#els.microphone);
  }

  #showNameError(show, message = text.nameInvalid) {
    const { name, nameHint } = this.#els;
    nameHint.hidden = !show;
    nameHint.textContent = show ? message : '';
    name.setAttribute('aria-invalid', String(show));
  }

  async #submit() {
    const name = normalizeName(this.#els.name.value);
    if (!name) {
      this.#showNameError(true);
      this.#els.name.focus();
      return;
    }
    this.#els.join.disabled = true;
    // Joining during the permission prompt would join without devices.
    await this.#ready;
    this.#session.name = name;
    saveSettings({ name });
    this.#onJoin();
  }
}
