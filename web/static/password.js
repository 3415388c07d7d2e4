// The password prompt: shown when the room asks for a password
// (password-required) or refused the one given (wrong-password); the join is
// tried again with what the user types.

import { text } from './strings.js';

const $ = (id) => document.getElementById(id);

export class PasswordPrompt {
  #form = $('password-form');
  #input = $('password-input');
  #hint = $('password-hint');
  #room = $('password-room');
  #submit = $('password-submit');

  /** onSubmit(password): the user entered a password. */
  constructor({ onSubmit }) {
    this.#input.addEventListener('input', () => this.#showHint(''));
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      const password = this.#input.value;
      if (!password) {
        this.#showHint(text.passwordEmpty);
        this.#input.focus();
        return;
      }
      this.#submit.disabled = true;
      onSubmit(password);
    });
  }

  /** Prepares the prompt for room; wrong: the last password was refused. */
  show(room, wrong) {
    this.#room.textContent = text.passwordFor(room);
    this.#submit.disabled = false;
    if (wrong) this.#input.select();
    this.#showHint(wrong ? text.passwordWrong : '');
  }

  #showHint(message) {
    this.#hint.textContent = message;
    this.#hint.hidden = !message;
    this.#input.setAttribute('aria-invalid', String(!!message));
  }
}
