// One tile: a participant's camera (with their sound) or a screen share. The
// tile shows the video, or the initials while there is no video, the name, the
// mute indicators, a raised hand and, on others' tiles, a pin button. Where a
// tile sits and how large it is are layout.js's business.

import { text } from './strings.js';
import { icon } from './icons.js';
import { initials } from './names.js';

function hasLiveVideo(tracks) {
  return tracks.some((t) => t.kind === 'video' && t.readyState === 'live' && t.enabled && !t.muted);
}

function sameTracks(stream, tracks) {
  const current = stream?.getTracks() ?? [];
  return current.length === tracks.length && tracks.every((t) => current.includes(t));
}

export class Tile {
  /** The source id: "<participant>-video" for a camera, "<participant>-screen" for a screen share. */
  id;
  participant;
  /** 'video' (camera) or 'screen'. */
  kind;
  self;
  el;
  video;

  #avatar;
  #name;
  #micOff;
  #camOff;
  #hand;
  #pin = null;
  #label = '';

  /** onPin(): the user clicked the tile or its pin button. */
  constructor({ id, participant, kind, self, onPin }) {
    Object.assign(this, { id, participant, kind, self });
    const el = document.createElement('div');
    el.className = 'tile';
    el.setAttribute('role', 'listitem');
    el.dataset.sourceId = id;
    el.dataset.kind = kind;
    // Tests count [data-participant-id] tiles, one per participant: only cameras carry it.
    if (kind === 'screen') el.dataset.screenOf = participant;
    else el.dataset.participantId = participant;
    if (self) el.dataset.self = 'true';

    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    // Our own sound would echo, and a screen share has none: the camera tile plays a participant's sound.
    video.muted = self || kind === 'screen';
    if (video.muted) video.setAttribute('muted', '');

    this.#avatar = document.createElement('div');
    this.#avatar.className = 'avatar';
    this.#avatar.setAttribute('aria-hidden', 'true');

    this.#name = document.createElement('span');
    this.#name.className = 'tile-name';
    this.#micOff = indicator('mic-off', text.micOff);
    this.#camOff = indicator('cam-off', text.camOff);
    this.#hand = indicator('hand', text.handRaised);
    const bar = document.createElement('div');
    bar.className = 'tile-bar';
    if (kind === 'screen') bar.append(icon('screen'));
    bar.append(this.#hand, this.#micOff, this.#camOff, this.#name);
    el.append(video, this.#avatar, bar);

    // Never our own tiles: the stage shows others (docs: "never your own camera").
    if (!self) {
      this.#pin = document.createElement('button');
      this.#pin.type = 'button';
      this.#pin.className = 'tile-pin';
      this.#pin.append(icon('pin'));
      el.append(this.#pin);
      // The pin button's click bubbles here too: one handler for both.
      el.addEventListener('click', () => onPin());
    }
    this.el = el;
    this.video = video;
    this.pinned = false;
  }

  /**
   * Shows a participant's state. tracks: the MediaStreamTracks to play;
   * forwarded: false when the bridge does not send this source's video now;
   * hand: their hand is raised. Returns true when the tracks changed and the
   * video needs play().
   */
  update({ name, audioMuted = false, videoMuted = false, hand = false, tracks = [], forwarded = true }) {
    const label = this.kind === 'screen' ? (this.self ? text.yourScreen : text.screenOf(name)) : this.self ? text.you(name) : name;
    this.#label = label;
    this.el.setAttribute('aria-label', label);
    this.#name.textContent = label;
    this.#avatar.textContent = initials(name);
    // A screen share has no microphone or camera of its own.
    this.#micOff.hidden = this.kind === 'screen' || !audioMuted;
    this.#camOff.hidden = this.kind === 'screen' || !videoMuted;
    this.#hand.hidden = this.kind === 'screen' || !hand;
    this.el.dataset.videoOff = String(videoMuted || !forwarded || !hasLiveVideo(tracks));
    this.pinned = this.pinned; // the pin button's label names the participant
    // A new stream only when the tracks change: reassigning restarts playback.
    if (sameTracks(this.video.srcObject, tracks)) return false;
    this.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
    return tracks.length > 0;
  }

  get pinned() {
    return this.el.dataset.pinned === 'true';
  }

  set pinned(on) {
    this.el.dataset.pinned = String(on);
    if (!this.#pin) return;
    this.#pin.setAttribute('aria-pressed', String(on));
    const label = on ? text.unpin(this.#label) : text.pin(this.#label);
    this.#pin.setAttribute('aria-label', label);
    this.#pin.title = label;
  }

  set speaking(on) {
    if (on) this.el.dataset.speaking = 'true';
    else delete this.el.dataset.speaking;
  }

  /** Releases the media. */
  dispose() {
    this.video.srcObject = null;
    this.el.remove();
  }
}

function indicator(iconName, label) {
  const el = document.createElement('span');
  el.className = `indicator indicator-${iconName}`;
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', label);
  el.title = label;
  el.hidden = true;
  el.append(icon(iconName));
  return el;
}
