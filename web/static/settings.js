// What the browser remembers between visits: the display name and the chosen
// camera and microphone. Storage may be off (private mode, policy); then
// nothing is remembered and nothing fails.

const KEY = 'parley.settings';

/** Returns {name, audioDevice, videoDevice}; missing values are ''. */
export function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') ?? {};
  } catch {
    // Unreadable or unavailable storage: start fresh.
  }
  const str = (v) => (typeof v === 'string' ? v : '');
  return { name: str(saved.name), audioDevice: str(saved.audioDevice), videoDevice: str(saved.videoDevice) };
}

/** Merges changes ({name}, {videoDevice}, ...) into what is remembered. */
export function saveSettings(changes) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...loadSettings(), ...changes }));
  } catch {
    // Storage full or disabled: remembering is a convenience only.
  }
}
