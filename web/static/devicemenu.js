// The meeting's device dialog: another camera or microphone without leaving.
// The switch itself (meeting.js) replaces the sender's track, so nobody else
// sees a renegotiation.

import { fillDeviceSelects } from './controls.js';

/**
 * Wires the dialog. els: {button, dialog, camera, microphone}; media: the
 * LocalMedia; onSwitch(kind, deviceId): resolves once the new device is sent.
 * Returns {close()}.
 */
export function bindDeviceDialog({ button, dialog, camera, microphone }, { media, onSwitch }) {
  button.hidden = typeof dialog.showModal !== 'function' || !navigator.mediaDevices?.enumerateDevices;

  const refresh = () => fillDeviceSelects(media, camera, microphone);

  button.addEventListener('click', async () => {
    await refresh();
    if (!dialog.open) dialog.showModal();
  });
  for (const [select, kind] of [[camera, 'video'], [microphone, 'audio']]) {
    select.addEventListener('change', async () => {
      select.disabled = true;
      try {
        await onSwitch(kind, select.value);
      } finally {
        await refresh();
      }
    });
  }
  return {
    close: () => {
      if (dialog.open) dialog.close();
    },
  };
}
