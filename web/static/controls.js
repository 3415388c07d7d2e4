// Microphone and camera toggles (on the pre-join screen and in the meeting), the
// meeting's leave, sound and copy-link buttons. A toggle is a button whose
// aria-pressed is "true" while its device is on; one without a device is
// aria-disabled rather than disabled so that it stays focusable and explains itself.

import { text } from './strings.js';

/** Shows a toggle's state. button.dataset.kind is 'audio' or 'video'. */
export function setToggle(button, on, available = true) {
  const kind = button.dataset.kind;
  button.setAttribute('aria-pressed', String(on && available));
  button.setAttribute('aria-disabled', String(!available));
  button.title = available ? text.toggleTitle[kind][on ? 'on' : 'off'] : text.noDevice[kind];
}

/** Calls onChange(wantOn) when the user flips a toggle that has a device. */
export function bindToggle(button, onChange) {
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-disabled') === 'true') return;
    onChange(button.getAttribute('aria-pressed') !== 'true');
  });
}

/**
 * Wires the meeting's controls. els: {mic, cam, leave, sound, copy, copyStatus};
 * handlers: {onMic(on), onCam(on), onLeave(), onSound()}.
 */
export function bindMeetingControls(els, { onMic, onCam, onLeave, onSound }) {
  bindToggle(els.mic, onMic);
  bindToggle(els.cam, onCam);
  els.leave.addEventListener('click', onLeave);
  els.sound.addEventListener('click', () => {
    els.sound.hidden = true;
    onSound();
  });

  // Copying needs the Clipboard API, which browsers offer only over https.
  els.copy.hidden = !navigator.clipboard?.writeText;
  els.copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(window.location.origin + window.location.pathname);
      els.copyStatus.textContent = text.linkCopied;
      setTimeout(() => (els.copyStatus.textContent = ''), 3000);
    } catch {
      els.copy.hidden = true;
    }
  });

  return {
    setMic: (on, available) => setToggle(els.mic, on, available),
    setCam: (on, available) => setToggle(els.cam, on, available),
    showSound: (show) => (els.sound.hidden = !show),
  };
}
