// The chat panel: room and private messages with the sender's name and the
// local time, a box to write in with a choice of recipient (everyone or one
// participant), and the unread count on the panel's toggle while it is closed.
// What people write reaches the page as text only (textContent): never as
// markup, and links are not made clickable.

import { text } from './strings.js';

const $ = (id) => document.getElementById(id);
const EVERYONE = '';
const NEAR_BOTTOM_PX = 48;

export class Chat {
  /** Every message received since joining, history first: for window.parley.chat(). */
  messages = [];

  #els = {
    log: $('chat-log'),
    empty: $('chat-empty'),
    form: $('chat-form'),
    to: $('chat-to'),
    input: $('chat-input'),
    error: $('chat-error'),
    unread: $('chat-unread'),
    unreadLabel: $('chat-unread-label'),
  };
  #send;
  #you = null;
  #open = false;
  #unread = 0;
  #pending = null; // the last message sent, until it comes back: restored if refused
  #names = new Map(); // participant id → name; kept after they leave, for old messages
  #time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

  /** send(msg): sends a chat message to the server. */
  constructor({ send }) {
    this.#send = send;
    const { form, input } = this.#els;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    input.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter starts a new line; never in the middle of composing (IME).
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      this.#submit();
    });
    input.addEventListener('input', () => this.#showError(''));
    this.setPeople([]);
  }

  /** Forgets the meeting: after leaving. */
  reset() {
    this.messages = [];
    this.#you = null;
    this.#pending = null;
    this.#names.clear();
    this.#els.log.replaceChildren();
    this.#els.input.value = '';
    this.#showError('');
    this.#setUnread(0);
    this.setPeople([]);
    this.#els.empty.hidden = false;
  }

  /** Joined as you (participant id), with the room's recent messages. */
  start(you, history = []) {
    this.#you = you;
    for (const msg of history) this.#add(msg);
  }

  /** A chat message from the server. */
  receive(msg) {
    this.#add(msg);
    if (msg.from === this.#you) {
      if (this.#pending?.text === msg.text) this.#pending = null;
    } else if (!this.#open) this.#setUnread(this.#unread + 1);
  }

  /** The others in the meeting ([{id, name}]): who a private message can go to. */
  setPeople(others) {
    const select = this.#els.to;
    const chosen = select.value;
    for (const p of others) this.#names.set(p.id, p.name);
    const options = [new Option(text.everyone, EVERYONE), ...others.map((p) => new Option(p.name, p.id))];
    // Rebuilding the list on every change would close it under the user's pointer.
    const same =
      select.options.length === options.length && options.every((o, i) => select.options[i].value === o.value && select.options[i].text === o.text);
    if (!same) select.replaceChildren(...options);
    select.value = others.some((p) => p.id === chosen) ? chosen : EVERYONE;
  }

  /** The panel was opened or closed: opening reads everything. */
  setOpen(open) {
    this.#open = open;
    if (open) {
      this.#setUnread(0);
      this.#scrollToEnd();
    }
  }

  /** The server refused a chat message (msg: an error with ref "chat"). */
  refused({ code, message }) {
    const pending = this.#pending;
    this.#pending = null;
    // Give the text back to its writer rather than lose it.
    if (pending && !this.#els.input.value) {
      this.#els.input.value = pending.text;
      if ([...this.#els.to.options].some((o) => o.value === pending.to)) this.#els.to.value = pending.to;
    }
    const limit = code === 'too-large' ? Number(/at most (\d+)/.exec(message ?? '')?.[1]) : 0;
    if (limit > 0) this.#els.input.maxLength = limit;
    this.#showError(limit > 0 ? text.chatTooLong(limit) : text.chatNotSent(message || text.chatFailed));
  }

  #submit() {
    const { input, to } = this.#els;
    const message = input.value.trim();
    if (!message) return;
    const msg = { type: 'chat', text: message };
    if (to.value !== EVERYONE) msg.to = to.value;
    this.#send(msg);
    this.#pending = { text: message, to: to.value };
    input.value = '';
    this.#showError('');
  }

  #add(msg) {
    this.messages.push(msg);
    if (msg.from) this.#names.set(msg.from, msg.name);
    const { log, empty } = this.#els;
    const follow = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    empty.hidden = true;
    log.append(this.#render(msg));
    if (follow || msg.from === this.#you) this.#scrollToEnd();
  }

  #render(msg) {
    const self = msg.from === this.#you;
    const li = document.createElement('li');
    li.className = 'chat-message';
    if (msg.id) li.dataset.chatId = msg.id;
    if (self) li.dataset.self = 'true';

    const meta = document.createElement('p');
    meta.className = 'chat-meta';
    const name = document.createElement('span');
    name.className = 'chat-name';
    name.textContent = self ? text.chatYou : msg.name;
    meta.append(name);
    if (msg.to) {
      li.dataset.private = 'true';
      const mark = document.createElement('span');
      mark.className = 'chat-private';
      mark.textContent = msg.to === this.#you ? text.chatPrivateToYou : text.chatPrivateTo(this.#names.get(msg.to) ?? '?');
      meta.append(mark);
    }
    if (msg.time) {
      const time = document.createElement('time');
      const at = new Date(msg.time);
      time.dateTime = at.toISOString();
      time.textContent = this.#time.format(at);
      meta.append(time);
    }
    const body = document.createElement('p');
    body.className = 'chat-text';
    body.textContent = msg.text;
    li.append(meta, body);
    return li;
  }

  #scrollToEnd() {
    const log = this.#els.log;
    log.scrollTop = log.scrollHeight;
  }

  #setUnread(n) {
    this.#unread = n;
    const { unread, unreadLabel } = this.#els;
    unread.hidden = n === 0;
    unread.textContent = n > 99 ? '99+' : String(n);
    unreadLabel.textContent = n ? text.unread(n) : '';
  }

  #showError(message) {
    const el = this.#els.error;
    el.textContent = message;
    el.hidden = !message;
    this.#els.input.setAttribute('aria-invalid', String(!!message));
  }
}
