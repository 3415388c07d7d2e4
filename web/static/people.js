// The participant list: everyone with their name, role, microphone, camera and
// hand; raised hands first, in the order they went up. A moderator gets
// buttons to act on each of the others ([data-action][data-target]). Rows are
// kept and updated in place, and keyboard focus survives a row moving.

import { text } from './strings.js';
import { icon, textButton } from './icons.js';
import { initials } from './names.js';

// What a moderator can do to someone, and when it makes sense.
const ACTIONS = [
  { action: 'mute', when: (p) => !p.audioMuted },
  { action: 'stop-video', when: (p) => !p.videoMuted },
  { action: 'ask-unmute', when: (p) => p.audioMuted },
  { action: 'grant-moderator', when: (p) => p.role !== 'moderator' },
  { action: 'remove', when: () => true },
];

/** Raised hands first (earliest first), then you, then the others as they came. */
export function orderPeople(self, others) {
  const all = self ? [self, ...others] : [...others];
  const hands = all.filter((p) => p.handRaisedAt > 0).sort((a, b) => a.handRaisedAt - b.handRaisedAt);
  return [...hands, ...all.filter((p) => !(p.handRaisedAt > 0))];
}

class Row {
  el;
  #avatar;
  #name;
  #badge;
  #hand;
  #mic;
  #cam;
  #actions;
  #buttons = new Map(); // action → button

  constructor(id, self, onAction) {
    const li = document.createElement('li');
    li.className = 'person';
    li.dataset.personId = id;
    if (self) li.dataset.self = 'true';

    const main = document.createElement('div');
    main.className = 'person-main';
    this.#avatar = document.createElement('span');
    this.#avatar.className = 'person-avatar';
    this.#avatar.setAttribute('aria-hidden', 'true');
    const who = document.createElement('span');
    who.className = 'person-who';
    this.#name = document.createElement('span');
    this.#name.className = 'person-name';
    this.#badge = document.createElement('span');
    this.#badge.className = 'role-badge';
    this.#badge.textContent = text.moderator;
    who.append(this.#name, this.#badge);
    const state = document.createElement('span');
    state.className = 'person-state';
    this.#hand = stateIcon('hand', 'hand');
    this.#mic = stateIcon('mic', 'mic');
    this.#cam = stateIcon('cam', 'cam');
    state.append(this.#hand, this.#mic, this.#cam);
    main.append(this.#avatar, who, state);
    li.append(main);

    if (!self) {
      this.#actions = document.createElement('div');
      this.#actions.className = 'person-actions';
      for (const { action } of ACTIONS) {
        const b = textButton(text.personAction[action], `chip${action === 'remove' ? ' danger' : ''}`, { 'data-action': action, 'data-target': id });
        b.addEventListener('click', () => onAction(action, id));
        this.#buttons.set(action, b);
        this.#actions.append(b);
      }
      li.append(this.#actions);
    }
    this.el = li;
  }

  update(p, moderator) {
    const label = this.el.dataset.self ? text.you(p.name) : p.name;
    this.#name.textContent = label;
    this.#avatar.textContent = initials(p.name);
    this.#badge.hidden = p.role !== 'moderator';
    const hand = p.handRaisedAt > 0;
    this.el.dataset.hand = String(hand);
    this.#hand.hidden = !hand;
    setState(this.#mic, !p.audioMuted, p.audioMuted ? text.micOff : text.micOn, 'mic');
    setState(this.#cam, !p.videoMuted, p.videoMuted ? text.camOff : text.camOn, 'cam');
    if (!this.#actions) return;
    this.#actions.hidden = !moderator;
    for (const { action, when } of ACTIONS) {
      const b = this.#buttons.get(action);
      b.hidden = !when(p);
      b.setAttribute('aria-label', text.personActionLabel[action](p.name));
    }
  }
}

function stateIcon(name, kind) {
  const el = document.createElement('span');
  el.className = `person-icon person-${kind}`;
  el.setAttribute('role', 'img');
  el.append(icon(name));
  if (kind === 'hand') {
    el.classList.add('on');
    el.setAttribute('aria-label', text.handRaised);
    el.title = text.handRaised;
  }
  return el;
}

function setState(el, on, label, name) {
  el.classList.toggle('off', !on);
  el.setAttribute('aria-label', label);
  el.title = label;
  el.querySelector('use').setAttribute('href', `#i-${name}${on ? '' : '-off'}`);
}

export class PeopleList {
  #list;
  #onAction;
  #rows = new Map(); // participant id → Row

  /** list: the <ul>; onAction(action, target): a moderator's button was pressed. */
  constructor(list, { onAction }) {
    this.#list = list;
    this.#onAction = onAction;
  }

  /** self: you ({id, name, role, ...}) or null; others: everyone else; moderator: show the actions. */
  render(self, others, moderator) {
    const people = orderPeople(self, others);
    const focused = document.activeElement;
    const ids = new Set(people.map((p) => p.id));
    for (const [id, row] of this.#rows) {
      if (ids.has(id)) continue;
      row.el.remove();
      this.#rows.delete(id);
    }
    people.forEach((p, i) => {
      let row = this.#rows.get(p.id);
      if (!row) {
        row = new Row(p.id, p === self, this.#onAction);
        this.#rows.set(p.id, row);
      }
      row.update(p, moderator);
      // Move only what is out of place: moving the focused row would drop the focus.
      const at = this.#list.children[i] ?? null;
      if (at !== row.el) this.#list.insertBefore(row.el, at);
    });
    if (focused !== document.activeElement && focused?.isConnected) focused.focus({ preventScroll: true });
  }

  clear() {
    this.#rows.clear();
    this.#list.replaceChildren();
  }
}
