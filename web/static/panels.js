// The meeting's side panels (chat, people): one open at a time beside the
// tiles (over them on a narrow screen). A toggle in the controls opens and
// closes each (aria-expanded); the panel's close button and Escape close it
// and give the focus back to its toggle.

export class Panels {
  /** Called with the name of the open panel, or null, whenever that changes. */
  onchange = null;

  #panels; // name → {button, panel, focus}
  #open = null;

  /** panels: {name: {button, panel, focus}}: focus is the element to focus on opening. */
  constructor(panels) {
    this.#panels = panels;
    for (const [name, { button, panel }] of Object.entries(panels)) {
      button.setAttribute('aria-expanded', 'false');
      button.addEventListener('click', () => this.toggle(name));
      panel.querySelector('[data-close-panel]')?.addEventListener('click', () => this.close(true));
      panel.addEventListener('keydown', (event) => {
        if (event.key !== 'Escape' || event.defaultPrevented) return;
        event.preventDefault();
        this.close(true);
      });
    }
  }

  toggle(name) {
    if (this.#open === name) this.close(true);
    else this.show(name);
  }

  show(name) {
    this.#set(name);
    this.#panels[name].focus?.focus({ preventScroll: true });
  }

  /** Closes the open panel; refocus: give the focus back to its toggle. */
  close(refocus = false) {
    const was = this.#open;
    this.#set(null);
    if (refocus && was) this.#panels[was].button.focus({ preventScroll: true });
  }

  #set(name) {
    if (this.#open === name) return;
    this.#open = name;
    for (const [n, { button, panel }] of Object.entries(this.#panels)) {
      panel.hidden = n !== name;
      button.setAttribute('aria-expanded', String(n === name));
    }
    this.onchange?.(name);
  }
}
