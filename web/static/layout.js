// The tile grid: one tile per participant, sized so that every tile is as large
// as the viewport allows for the number of people in the room.

import { text } from './strings.js';

const SVG = 'http://www.w3.org/2000/svg';

function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : words;
  return letters.map((w) => [...w][0]).join('').toUpperCase() || '?';
}

function hasLiveVideo(tracks) {
  return tracks.some((t) => t.kind === 'video' && t.readyState === 'live' && t.enabled && !t.muted);
}

function sameTracks(stream, tracks) {
  const current = stream?.getTracks() ?? [];
  return current.length === tracks.length && tracks.every((t) => current.includes(t));
}

export class Grid {
  /** Called once when the browser refused to play a remote tile's sound on its own. */
  onautoplayblocked = null;

  #root;
  #tiles = new Map();
  #soundBlocked = false;

  constructor(root) {
    this.#root = root;
    new ResizeObserver(() => this.#fit()).observe(root);
  }

  /**
   * Creates or updates the tile of a participant. tracks: the MediaStreamTracks to
   * show; self: this browser's own tile (mirrored and silent).
   */
  update(id, { name, self = false, audioMuted = false, videoMuted = false, tracks = [] }) {
    let tile = this.#tiles.get(id);
    if (!tile) {
      tile = this.#create(id, self);
      this.#tiles.set(id, tile);
      this.#root.append(tile.el);
      this.#fit();
    }
    const label = self ? text.you(name) : name;
    tile.el.setAttribute('aria-label', label);
    tile.name.textContent = label;
    tile.avatar.textContent = initials(name);
    tile.micOff.hidden = !audioMuted;
    tile.camOff.hidden = !videoMuted;
    tile.el.dataset.videoOff = String(videoMuted || !hasLiveVideo(tracks));
    // A new stream only when the tracks change: reassigning restarts playback.
    if (!sameTracks(tile.video.srcObject, tracks)) {
      tile.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
      if (tracks.length) this.#play(tile.video, self);
    }
  }

  remove(id) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.el.remove();
    this.#tiles.delete(id);
    this.#fit();
  }

  clear() {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
    this.#soundBlocked = false;
  }

  /** Unmutes remote tiles after the user allowed sound (a click). */
  enableSound() {
    this.#soundBlocked = false;
    for (const tile of this.#tiles.values()) {
      if (tile.el.dataset.self === 'true') continue;
      tile.video.muted = false;
      tile.video.play().catch(() => {});
    }
  }

  #create(id, self) {
    const el = document.createElement('div');
    el.className = 'tile';
    el.setAttribute('role', 'listitem');
    el.dataset.participantId = id;
    if (self) el.dataset.self = 'true';

    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    // Our own sound would echo; remote sound plays through the tile's video element.
    video.muted = self || this.#soundBlocked;
    if (self) video.setAttribute('muted', '');

    const avatar = document.createElement('div');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');

    const name = document.createElement('span');
    name.className = 'tile-name';
    const micOff = this.#indicator('mic-off', text.micOff);
    const camOff = this.#indicator('cam-off', text.camOff);
    const bar = document.createElement('div');
    bar.className = 'tile-bar';
    bar.append(micOff, camOff, name);

    el.append(video, avatar, bar);
    return { el, video, avatar, name, micOff, camOff };
  }

  #indicator(iconName, label) {
    const el = document.createElement('span');
    el.className = `indicator indicator-${iconName}`;
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', label);
    el.title = label;
    el.hidden = true;
    el.append(icon(iconName));
    return el;
  }

  #play(video, self) {
    video.play().catch((err) => {
      if (err.name !== 'NotAllowedError' || self || video.muted) return;
      // Autoplay with sound needs a user gesture: play silently and offer a button.
      video.muted = true;
      video.play().catch(() => {});
      if (!this.#soundBlocked) {
        this.#soundBlocked = true;
        this.onautoplayblocked?.();
      }
    });
  }

  // Picks the column count that makes tiles largest, at 16:9 (3:4 in a portrait viewport).
  #fit() {
    const count = this.#tiles.size;
    const width = this.#root.clientWidth;
    const height = this.#root.clientHeight;
    if (!count || width <= 0 || height <= 0) return;
    const gap = parseFloat(getComputedStyle(this.#root).rowGap) || 0;
    const aspect = width >= height ? 16 / 9 : 3 / 4;
    let best = { cols: 1, w: 0 };
    for (let cols = 1; cols <= count; cols++) {
      const rows = Math.ceil(count / cols);
      const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * aspect);
      if (w > best.w) best = { cols, w };
    }
    this.#root.style.setProperty('--cols', best.cols);
    this.#root.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
    this.#root.style.setProperty('--tile-h', `${Math.floor(best.w / aspect)}px`);
  }
}
