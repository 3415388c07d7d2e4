// Where the tiles go. Two layouts:
//   stage: one large tile and a filmstrip of the others (the default with three or
//          more people or while anyone shares a screen);
//   grid:  every tile the same size, as large as the viewport allows.
// The stage shows, in this order: the pinned tile, the latest screen share of
// someone else, the dominant speaker, the first other participant; our own
// camera only when we are alone. A tile element lives in exactly one of the
// three containers and moves between them, so its video keeps playing.
// The layout also says what the bridge should forward (constraints()).

import { Tile } from './tile.js';

// Heights of the camera's simulcast layers: a tile asks for the smallest that covers it.
const LAYER_STEPS = [180, 360, 720];

function layerStep(pixels) {
  return LAYER_STEPS.find((h) => h >= pixels) ?? LAYER_STEPS.at(-1);
}

// The height in CSS pixels at which a tile draws its video: a contained video
// (screen shares, the stage) may be shorter than its tile, a covering one taller.
function videoHeight(tile) {
  const { clientWidth: width, clientHeight: height } = tile.el;
  const { videoWidth, videoHeight: h } = tile.video;
  const aspect = videoWidth > 0 && h > 0 ? videoWidth / h : 16 / 9;
  const contain = getComputedStyle(tile.video).objectFit === 'contain';
  return contain ? Math.min(height, width / aspect) : Math.max(height, width / aspect);
}

// Moves the elements into container in this order, touching only those out of place.
// moveBefore (where there is one) keeps focus and playback as they are; elsewhere
// a moved element that had the focus gets it back.
function place(container, elements) {
  const focused = document.activeElement;
  elements.forEach((el, i) => {
    const next = container.children[i] ?? null;
    if (next === el) return;
    if (container.moveBefore && el.isConnected && container.isConnected) {
      try {
        container.moveBefore(el, next);
        return;
      } catch {
        // Not movable with its state (another document, say): move it plainly.
      }
    }
    container.insertBefore(el, next);
  });
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
}

export class Layout {
  /** Called once when the browser refused to play a remote tile's sound on its own. */
  onautoplayblocked = null;
  /** Called when what constraints() returns may have changed (stage, tiles, sizes). */
  onchange = null;
  /** Called with 'stage' or 'grid' when the layout in use changes. */
  onmodechange = null;

  #root;
  #stageEl;
  #filmstrip;
  #grid;
  #tiles = new Map(); // source id → Tile
  #joinOrder = new Map(); // participant id → the order they were first seen in
  #screens = []; // screen source ids, oldest first
  #choice = null; // 'stage' or 'grid' once the user picked one; null: automatic
  #mode = 'grid';
  #stage = null; // source id on stage, in the stage layout
  #pinned = null;
  #speakers = []; // participant ids, most recent first
  #inView = new Map(); // source id → false while scrolled out of sight
  #soundBlocked = false;
  #resize;
  #view;

  /** els: {root, stage, filmstrip, grid}: the container of all three and the three. */
  constructor({ root, stage, filmstrip, grid }) {
    this.#root = root;
    this.#stageEl = stage;
    this.#filmstrip = filmstrip;
    this.#grid = grid;
    this.#resize = new ResizeObserver(() => {
      this.#fit();
      this.onchange?.();
    });
    this.#resize.observe(grid);
    this.#resize.observe(root);
    this.#view = new IntersectionObserver((entries) => {
      for (const e of entries) this.#inView.set(e.target.dataset.sourceId, e.isIntersecting);
      this.onchange?.();
    });
    this.#arrange();
  }

  /** 'stage' or 'grid'. */
  get mode() {
    return this.#mode;
  }

  /** The source id on stage, or null in the grid layout. */
  get stage() {
    return this.#mode === 'stage' ? this.#stage : null;
  }

  /**
   * Creates or updates a tile. id: the source id; participant: whose it is; kind:
   * 'video' (camera, with the participant's sound) or 'screen'; self: ours.
   * The rest is what Tile.update shows.
   */
  update(id, { participant, kind = 'video', self = false, ...state }) {
    let tile = this.#tiles.get(id);
    const created = !tile;
    if (!tile) {
      tile = new Tile({ id, participant, kind, self, onPin: () => this.togglePin(id) });
      if (!this.#joinOrder.has(participant)) this.#joinOrder.set(participant, self ? -1 : this.#joinOrder.size);
      this.#tiles.set(id, tile);
      if (kind === 'screen') this.#screens.push(id);
      if (!self) tile.video.muted ||= this.#soundBlocked;
      this.#resize.observe(tile.el);
      this.#view.observe(tile.el);
      // A new aspect ratio changes the height a contained video needs.
      tile.video.addEventListener('resize', () => this.onchange?.());
    }
    if (tile.update(state)) this.#play(tile);
    if (created) this.#arrange();
  }

  remove(id) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    this.#resize.unobserve(tile.el);
    this.#view.unobserve(tile.el);
    tile.dispose();
    this.#tiles.delete(id);
    this.#inView.delete(id);
    this.#screens = this.#screens.filter((s) => s !== id);
    if (this.#pinned === id) this.#pinned = null;
    this.#arrange();
  }

  clear() {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
    this.#joinOrder.clear();
    this.#soundBlocked = false;
    this.#choice = null;
    this.#speakers = [];
    this.#arrange();
  }

  /** Unmutes remote tiles after the user allowed sound (a click). */
  enableSound() {
    this.#soundBlocked = false;
    for (const tile of this.#tiles.values()) {
      if (tile.self || tile.kind === 'screen') continue;
      tile.video.muted = false;
      tile.video.play().catch(() => {});
    }
  }

  /** Pins a tile to the stage, or unpins it; pinning in the grid switches to the stage. */
  togglePin(id) {
    if (!this.#tiles.has(id)) return;
    this.#pinned = this.#pinned === id ? null : id;
    if (this.#pinned && this.#mode === 'grid') this.#choice = 'stage';
    this.#arrange();
  }

  /** Switches between the stage and the grid; the choice holds for the meeting. */
  toggleMode() {
    this.#choice = this.#mode === 'stage' ? 'grid' : 'stage';
    this.#arrange();
  }

  /** The bridge's dominant speaker: id now, speakers most recent first. */
  setSpeakers(id, speakers) {
    this.#speakers = [id, ...speakers.filter((s) => s !== id)];
    this.#arrange();
  }

  /** Arranges again: after the layout's container appeared, for one. */
  refresh() {
    this.#arrange();
  }

  /**
   * What the bridge should forward for this layout: {onStage, maxHeight} (see
   * docs/protocol.md, "Bridge channel"), or null while the layout is not shown
   * and sizes mean nothing.
   */
  constraints() {
    if (!this.#root.isConnected || this.#root.clientHeight === 0) return null;
    const dpr = window.devicePixelRatio || 1;
    const maxHeight = {};
    for (const tile of this.#tiles.values()) {
      if (tile.self) continue;
      const shown = tile.el.clientHeight > 0 && this.#inView.get(tile.id) !== false;
      maxHeight[tile.id] = shown ? layerStep(Math.ceil(videoHeight(tile) * dpr)) : 0;
    }
    const onStage = this.stage && !this.#tiles.get(this.stage)?.self ? [this.stage] : [];
    return { onStage, maxHeight };
  }

  #autoMode() {
    let people = 0;
    for (const tile of this.#tiles.values()) {
      if (tile.kind === 'screen') return 'stage';
      people++;
    }
    return people >= 3 ? 'stage' : 'grid';
  }

  #chooseStage() {
    const tiles = [...this.#tiles.values()];
    if (this.#pinned) return this.#pinned;
    const screen = this.#screens.findLast((id) => !this.#tiles.get(id).self);
    if (screen) return screen;
    const camera = (participant) => tiles.find((t) => t.kind === 'video' && t.participant === participant && !t.self);
    for (const id of this.#speakers) {
      const tile = camera(id);
      if (tile) return tile.id;
    }
    const others = this.#ordered().filter((t) => !t.self);
    const first = others.find((t) => t.kind === 'video') ?? others[0];
    if (first) return first.id;
    return tiles.find((t) => t.self && t.kind === 'video')?.id ?? null;
  }

  // Ours first, then everyone else in the order they came; a screen after its owner's camera.
  #ordered() {
    const rank = (t) => this.#joinOrder.get(t.participant) ?? Infinity;
    return [...this.#tiles.values()].sort((a, b) => rank(a) - rank(b) || (a.kind === 'screen') - (b.kind === 'screen'));
  }

  #arrange() {
    const mode = this.#choice ?? this.#autoMode();
    const modeChanged = mode !== this.#mode;
    this.#mode = mode;
    this.#root.dataset.layout = mode;
    this.#stage = mode === 'stage' ? this.#chooseStage() : null;

    const ordered = this.#ordered().map((t) => t.el);
    const staged = this.#tiles.get(this.#stage)?.el;
    if (mode === 'grid') {
      place(this.#grid, ordered);
    } else {
      place(this.#stageEl, staged ? [staged] : []);
      place(this.#filmstrip, ordered.filter((el) => el !== staged));
    }
    this.#grid.hidden = mode !== 'grid';
    this.#stageEl.hidden = mode !== 'stage';
    this.#filmstrip.hidden = mode !== 'stage' || !this.#filmstrip.children.length;

    const speaker = this.#speakers[0];
    for (const tile of this.#tiles.values()) {
      tile.pinned = tile.id === this.#pinned;
      tile.speaking = tile.kind === 'video' && tile.participant === speaker;
      if (tile.el.parentElement === this.#stageEl) tile.el.dataset.onStage = 'true';
      else delete tile.el.dataset.onStage;
    }
    this.#fit();
    if (modeChanged) this.onmodechange?.(mode);
    this.onchange?.();
  }

  #play(tile) {
    tile.video.play().catch((err) => {
      if (err.name !== 'NotAllowedError' || tile.video.muted) return;
      // Autoplay with sound needs a user gesture: play silently and offer a button.
      tile.video.muted = true;
      tile.video.play().catch(() => {});
      if (!this.#soundBlocked) {
        this.#soundBlocked = true;
        this.onautoplayblocked?.();
      }
    });
  }

  // Picks the grid's column count that makes tiles largest, at 16:9 (3:4 in a portrait viewport).
  #fit() {
    const grid = this.#grid;
    const count = grid.children.length;
    const width = grid.clientWidth;
    const height = grid.clientHeight;
    if (!count || width <= 0 || height <= 0) return;
    const gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
    const aspect = width >= height ? 16 / 9 : 3 / 4;
    let best = { cols: 1, w: 0 };
    for (let cols = 1; cols <= count; cols++) {
      const rows = Math.ceil(count / cols);
      const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * aspect);
      if (w > best.w) best = { cols, w };
    }
    grid.style.setProperty('--cols', best.cols);
    grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
    grid.style.setProperty('--tile-h', `${Math.floor(best.w / aspect)}px`);
  }
}
