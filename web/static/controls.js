// Microphone and camera toggles (on the pre-join screen and in the meeting), the
// meeting's screen share, layout, leave, sound and copy-link buttons. A toggle is
// a button whose aria-pressed is "true" while its device is on; one without a
// device is aria-disabled rather than disabled so that it stays focusable and
// explains itself. The screen share and tile view toggles are options: pressed
// while sharing, or while the grid shows.

import { text } from './strings.js';
import { canShareScreen } from './screen.js';

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

/** Lists media's (a LocalMedia's) cameras and microphones in the two selects, the ones in use chosen. */
export async function fillDeviceSelects(media, camera, microphone) {
  const devices = await media.devices();
  fillDeviceSelect(camera, devices.video, media.deviceId('video'), 'video');
  fillDeviceSelect(microphone, devices.audio, media.deviceId('audio'), 'audio');
}

/** Lists devices ([{id, label}] of one kind) in a select, the one in use chosen. */
function fillDeviceSelect(select, devices, currentId, kind) {
  const options = devices.map((d, i) => new Option(d.label || text.deviceFallback(kind, i + 1), d.id));
  // None listed: there are none, or the browser hides them until access is allowed.
  if (!options.length) options.push(new Option(text.noDevice[kind], ''));
  select.replaceChildren(...options);
  select.disabled = !devices.length;
  if (devices.some((d) => d.id === currentId)) select.value = currentId;
}

/**
 * Wires the meeting's controls. els: {mic, cam, screen, layout, leave, sound, copy,
 * copyStatus}; handlers: {onMic(on), onCam(on), onScreen(on), onLayout(), onLeave(), onSound()}.
 */
export function bindMeetingControls(els, { onMic, onCam, onScreen, onLayout, onLeave, onSound }) {
  bindToggle(els.mic, onMic);
  bindToggle(els.cam, onCam);
  // Phones and some browsers cannot capture the screen: no button rather than one that fails.
  els.screen.hidden = !canShareScreen();
  els.screen.addEventListener('click', () => onScreen(els.screen.getAttribute('aria-pressed') !== 'true'));
  els.layout.addEventListener('click', () => onLayout());
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
    setScreen: (on) => {
      els.screen.setAttribute('aria-pressed', String(on));
      els.screen.title = on ? text.screenTitle.on : text.screenTitle.off;
    },
    /** mode: 'stage' or 'grid'. */
    setLayout: (mode) => {
      els.layout.setAttribute('aria-pressed', String(mode === 'grid'));
      els.layout.title = mode === 'grid' ? text.layoutTitle.grid : text.layoutTitle.stage;
    },
    showSound: (show) => (els.sound.hidden = !show),
  };
}
