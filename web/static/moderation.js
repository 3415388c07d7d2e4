// What a moderator can do (docs/protocol.md, "Moderator actions"): the
// meeting's settings (lock, lobby, password), muting everyone, ending the
// meeting for all, and the actions on one participant from the participant
// list. Each becomes a `moderate` message; the drastic ones ask first.

import { text } from './strings.js';

const $ = (id) => document.getElementById(id);

export class Moderation {
  #els = {
    tools: $('moderator-tools'),
    lock: $('lock-toggle'),
    lobby: $('lobby-toggle'),
    passwordForm: $('room-password-form'),
    password: $('room-password'),
    passwordStatus: $('room-password-status'),
    passwordClear: $('room-password-clear'),
    muteAll: $('mute-all'),
    end: $('end-meeting'),
    dialog: $('confirm-dialog'),
    dialogTitle: $('confirm-title'),
    dialogBody: $('confirm-body'),
    dialogOk: $('confirm-ok'),
  };
  #send;
  #state = { locked: false, lobby: false, hasPassword: false };

  /** send(msg): sends a message to the server. */
  constructor({ send }) {
    this.#send = send;
    const els = this.#els;
    els.lock.addEventListener('click', () => this.#moderate('lock', { on: !this.#state.locked }));
    els.lobby.addEventListener('click', () => this.#moderate('lobby', { on: !this.#state.lobby }));
    els.passwordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const password = els.password.value;
      if (!password) {
        els.password.focus();
        return;
      }
      this.#moderate('password', { password });
      els.password.value = '';
    });
    els.passwordClear.addEventListener('click', () => this.#moderate('password', { password: '' }));
    els.muteAll.addEventListener('click', () => this.#moderate('mute-all', { kind: 'audio' }));
    els.end.addEventListener('click', async () => {
      if (await this.#confirm(text.confirmEnd.title, text.confirmEnd.body, text.confirmEnd.ok)) this.#moderate('end-meeting');
    });
  }

  /** Shows or hides the moderator's tools. */
  setModerator(on) {
    this.#els.tools.hidden = !on;
    if (!on && this.#els.dialog.open) this.#els.dialog.close('cancel');
  }

  /** The room's policy {locked, lobby, hasPassword}, from joined or room-state. */
  setState({ locked = false, lobby = false, hasPassword = false }) {
    this.#state = { locked, lobby, hasPassword };
    const els = this.#els;
    els.lock.setAttribute('aria-checked', String(locked));
    els.lobby.setAttribute('aria-checked', String(lobby));
    els.passwordStatus.textContent = hasPassword ? text.roomPasswordSet : text.roomPasswordNone;
    els.passwordClear.hidden = !hasPassword;
  }

  /**
   * A moderator's action on one participant, from the participant list:
   * mute, stop-video, ask-unmute, grant-moderator, remove (asks first).
   */
  async act(action, target, name) {
    switch (action) {
      case 'mute':
        return this.#moderate('mute', { target, kind: 'audio' });
      case 'stop-video':
        return this.#moderate('mute', { target, kind: 'video' });
      case 'ask-unmute':
        return this.#moderate('ask-unmute', { target, kind: 'audio' });
      case 'grant-moderator':
        return this.#moderate('grant-moderator', { target });
      case 'remove':
        if (await this.#confirm(text.confirmRemove.title(name), text.confirmRemove.body, text.confirmRemove.ok)) this.#moderate('remove', { target });
    }
  }

  /** Admits or denies a guest waiting in the lobby. */
  decide(action, target) {
    this.#moderate(action, { target });
  }

  close() {
    if (this.#els.dialog.open) this.#els.dialog.close('cancel');
  }

  #moderate(action, fields = {}) {
    this.#send({ type: 'moderate', action, ...fields });
  }

  // A modal question; resolves true when the user confirmed.
  #confirm(title, body, ok) {
    const { dialog, dialogTitle, dialogBody, dialogOk } = this.#els;
    if (dialog.open) dialog.close('cancel');
    dialogTitle.textContent = title;
    dialogBody.textContent = body;
    dialogOk.textContent = ok;
    dialog.returnValue = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
      dialog.showModal();
    });
  }
}
