// Short messages that come and go during a meeting ("Ann muted you", "Ann asks
// you to unmute"): toasts in one polite live region. A toast with an action
// keeps its button for longer; any toast can be dismissed. Text goes in as text.

import { text } from './strings.js';
import { textButton } from './icons.js';

const LIFETIME_MS = 8_000;
const ACTION_LIFETIME_MS = 30_000;

export class Notices {
  #root;

  /** root: the live region that holds the toasts. */
  constructor(root) {
    this.#root = root;
  }

  /**
   * Shows a toast; one of the same kind goes away first. kind: its data-notice;
   * action: {name, label, run()} for a button [data-action=name]. Returns a
   * function that removes the toast.
   */
  show(kind, message, action = null) {
    this.#root.querySelector(`[data-notice="${CSS.escape(kind)}"]`)?.remove();
    const el = document.createElement('div');
    el.className = 'toast';
    el.dataset.notice = kind;
    const p = document.createElement('p');
    p.className = 'toast-text';
    p.textContent = message;
    el.append(p);
    let timer = 0;
    const close = () => {
      clearTimeout(timer);
      el.remove();
    };
    if (action) {
      const button = textButton(action.label, 'button primary small', { 'data-action': action.name });
      button.addEventListener('click', () => {
        close();
        action.run();
      });
      el.append(button);
    }
    const dismiss = textButton('\u00d7', 'toast-dismiss', { 'aria-label': text.dismiss, title: text.dismiss });
    dismiss.addEventListener('click', close);
    el.append(dismiss);
    this.#root.append(el);
    timer = setTimeout(close, action ? ACTION_LIFETIME_MS : LIFETIME_MS);
    return close;
  }

  clear() {
    this.#root.replaceChildren();
  }
}
