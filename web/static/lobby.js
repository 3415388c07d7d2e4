// The lobby, both sides of the door. For moderators, LobbyList: a card above
// the meeting listing who knocks, each with Admit and Deny
// ([data-lobby-id] button[data-action="admit"|"deny"]). For a guest, WaitingRoom:
// the screen that says they wait, with their own camera and a way out.

import { text } from './strings.js';
import { textButton } from './icons.js';

const $ = (id) => document.getElementById(id);

export class LobbyList {
  #card = $('lobby-card');
  #title = $('lobby-card-title');
  #list = $('lobby-list');
  #announce = $('lobby-announce');
  #guests = new Map(); // id → {id, name}
  #onDecide;

  /** onDecide(action, id): a moderator pressed Admit ('admit') or Deny ('deny'). */
  constructor({ onDecide }) {
    this.#onDecide = onDecide;
  }

  /** The guests waiting now: [{id, name}], for window.parley.lobby(). */
  guests() {
    return [...this.#guests.values()].map(({ id, name }) => ({ id, name }));
  }

  /** Someone knocks (a lobby-request's participant). */
  add({ id, name }) {
    if (!id) return;
    const known = this.#guests.has(id);
    this.#guests.set(id, { id, name });
    if (known) return;
    const li = document.createElement('li');
    li.className = 'lobby-guest';
    li.dataset.lobbyId = id;
    const who = document.createElement('span');
    who.className = 'lobby-name';
    who.textContent = name;
    const admit = textButton(text.admit, 'button primary small', { 'data-action': 'admit', 'aria-label': text.admitLabel(name) });
    const deny = textButton(text.deny, 'button secondary small', { 'data-action': 'deny', 'aria-label': text.denyLabel(name) });
    for (const b of [admit, deny]) {
      b.addEventListener('click', () => {
        admit.disabled = deny.disabled = true; // until lobby-left takes the row away
        this.#onDecide(b.dataset.action, id);
      });
    }
    li.append(who, admit, deny);
    this.#list.append(li);
    this.#announce.textContent = text.knocking(name);
    this.#refresh();
  }

  /** The guest no longer waits (lobby-left): let in, turned away or gone. */
  remove(id) {
    if (!this.#guests.delete(id)) return;
    this.#list.querySelector(`[data-lobby-id="${CSS.escape(id)}"]`)?.remove();
    this.#refresh();
  }

  clear() {
    this.#guests.clear();
    this.#list.replaceChildren();
    this.#announce.textContent = '';
    this.#refresh();
  }

  #refresh() {
    const n = this.#guests.size;
    this.#card.hidden = n === 0;
    this.#title.textContent = text.lobbyWaiting(n);
  }
}

export class WaitingRoom {
  #preview = $('lobby-preview');
  #room = $('lobby-room');

  /** onLeave(): the guest gave up waiting. */
  constructor({ onLeave }) {
    $('lobby-leave').addEventListener('click', () => onLeave());
  }

  /** Shows the room's name and, when the camera is on, the guest's own picture. */
  show(room, videoTracks) {
    this.#room.textContent = text.lobbyRoom(room);
    const live = videoTracks.filter((t) => t.readyState === 'live' && t.enabled);
    this.#preview.srcObject = live.length ? new MediaStream(live) : null;
    this.#preview.hidden = !live.length;
  }

  hide() {
    this.#preview.srcObject = null;
  }
}
