// The start page: type a room name or start a new meeting in a random room.

import { text } from './strings.js';
import { normalizeRoom, randomRoom } from './names.js';

/** Wires the start page; go(room) opens a room. */
export function bindLanding(go) {
  const form = document.getElementById('landing-form');
  const input = document.getElementById('room-input');
  const hint = document.getElementById('room-hint');

  const showInvalid = (invalid) => {
    input.setAttribute('aria-invalid', String(invalid));
    hint.textContent = invalid ? text.roomInvalid : text.roomHint;
    hint.classList.toggle('invalid', invalid);
  };

  input.addEventListener('input', () => showInvalid(false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Spaces are a likely slip in a typed name; the server does not allow them.
    const room = normalizeRoom(input.value.trim().replace(/\s+/g, '-'));
    if (!room) {
      showInvalid(true);
      input.focus();
      return;
    }
    go(room);
  });
  document.getElementById('room-new').addEventListener('click', () => go(randomRoom()));
}
