// Everything in a meeting besides the media: your role, the room's policy
// (locked, lobby, password), chat, raised hands, the participant list, the
// lobby's knocks, a moderator's tools and the notices they cause. Meeting
// hands it the server's room messages (message()) and every change of who is
// there (people()); it talks back only through send().

import { text, errorText } from './strings.js';
import { Chat } from './chat.js';
import { PeopleList } from './people.js';
import { LobbyList } from './lobby.js';
import { Moderation } from './moderation.js';
import { Notices } from './notices.js';
import { Panels } from './panels.js';

const $ = (id) => document.getElementById(id);

// Errors about these messages are dealt with here, as notices, not as the page's error banner.
const QUIET_REFS = new Set(['moderate', 'hand']);

export class RoomView {
  chat;
  lobby;
  #send;
  #onForceMute;
  #onUnmute;
  #people;
  #moderation;
  #notices = new Notices($('toasts'));
  #panels;
  #role = null;
  #state = { locked: false, lobby: false, hasPassword: false };
  #self = null;
  #others = [];
  #els = {
    hand: $('hand-toggle'),
    peopleCount: $('people-count'),
    locked: $('state-locked'),
    lobbyOn: $('state-lobby'),
    password: $('state-password'),
  };

  /**
   * send(msg): to the server; onForceMute(kind): a moderator muted your 'audio'
   * or 'video': turn it off here; onUnmute(kind): you accepted their request.
   */
  constructor({ send, onForceMute, onUnmute }) {
    this.#send = send;
    this.#onForceMute = onForceMute;
    this.#onUnmute = onUnmute;
    this.chat = new Chat({ send });
    this.#moderation = new Moderation({ send });
    this.#people = new PeopleList($('people-list'), {
      onAction: (action, target) => this.#moderation.act(action, target, this.#nameOf(target)),
    });
    this.lobby = new LobbyList({
      onDecide: (action, id) => this.#moderation.decide(action, id),
    });
    this.#panels = new Panels({
      chat: { button: $('chat-toggle'), panel: $('chat-panel'), focus: $('chat-input') },
      people: { button: $('people-toggle'), panel: $('people-panel'), focus: $('people-title') },
    });
    this.#panels.onchange = (open) => this.chat.setOpen(open === 'chat');
    this.#els.hand.addEventListener('click', () => {
      const raised = this.#els.hand.getAttribute('aria-pressed') !== 'true';
      this.#setHand(raised); // at once; the server's participant-updated confirms
      this.#send({ type: 'hand', raised });
    });
    this.reset();
  }

  /** Your role: 'moderator', 'participant', or null outside a meeting. */
  get role() {
    return this.#role;
  }

  /** {locked, lobby, hasPassword}. */
  get state() {
    return { ...this.#state };
  }

  /** Back to nothing: before joining and after leaving. */
  reset() {
    this.#role = null;
    this.#self = null;
    this.#others = [];
    this.chat.reset();
    this.lobby.clear();
    this.#people.clear();
    this.#notices.clear();
    this.#moderation.close();
    this.#panels.close();
    this.#setState({});
    this.#setRole(null);
    this.#setHand(false);
  }

  /**
   * A server message about the room: joined, chat, room-state, lobby-request,
   * lobby-left, muted, unmute-request, or an error. Returns true for an error
   * it dealt with.
   */
  message(msg) {
    switch (msg.type) {
      case 'joined':
        this.#setState(msg.state ?? {});
        this.chat.start(msg.you.id, msg.chat ?? []);
        return true;
      case 'room-state':
        this.#setState(msg);
        return true;
      case 'chat':
        this.chat.receive(msg);
        return true;
      case 'lobby-request':
        this.lobby.add(msg.participant ?? {});
        return true;
      case 'lobby-left':
        this.lobby.remove(msg.id);
        return true;
      case 'muted':
        this.#onForceMute(msg.kind === 'video' ? 'video' : 'audio');
        this.#notices.show('muted', text.mutedBy(msg.by, msg.kind));
        return true;
      case 'unmute-request': {
        const kind = msg.kind === 'video' ? 'video' : 'audio';
        this.#notices.show('unmute-request', text.unmuteAsked(msg.by, kind), {
          name: 'unmute',
          label: text.unmuteAction[kind],
          run: () => this.#onUnmute(kind),
        });
        return true;
      }
      case 'error':
        return this.#error(msg);
    }
    return false;
  }

  /** Who is there: self (you, your devices as they are here) and the others. */
  people(self, others) {
    this.#self = self;
    this.#others = others;
    const role = self?.role ?? null;
    if (this.#role === 'participant' && role === 'moderator') this.#notices.show('moderator', text.nowModerator);
    this.#setRole(role);
    this.#setHand(!!self?.handRaisedAt);
    this.#people.render(self, others, role === 'moderator');
    this.chat.setPeople(others);
    this.#els.peopleCount.textContent = String(others.length + (self ? 1 : 0));
  }

  #error(msg) {
    if (msg.ref === 'chat') {
      this.chat.refused(msg);
      return true;
    }
    if (!QUIET_REFS.has(msg.ref)) return false;
    this.#notices.show('error', errorText(msg.code, { detail: msg.message }).title);
    return true;
  }

  #nameOf(id) {
    return this.#others.find((p) => p.id === id)?.name ?? '';
  }

  #setRole(role) {
    this.#role = role;
    const moderator = role === 'moderator';
    document.body.dataset.role = role ?? '';
    this.#moderation.setModerator(moderator);
    if (!moderator) this.lobby.clear();
  }

  #setHand(raised) {
    const hand = this.#els.hand;
    hand.setAttribute('aria-pressed', String(raised));
    hand.title = raised ? text.handTitle.on : text.handTitle.off;
  }

  #setState({ locked = false, lobby = false, hasPassword = false }) {
    this.#state = { locked, lobby, hasPassword };
    this.#moderation.setState(this.#state);
    this.#els.locked.hidden = !locked;
    this.#els.lobbyOn.hidden = !lobby;
    this.#els.password.hidden = !hasPassword;
  }
}
