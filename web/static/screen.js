// Capturing the screen (or a window or tab) to share. The browser shows its own
// picker and its own "stop sharing" control; both end up here.

/** Whether this browser can share a screen at all (phones mostly cannot). */
export function canShareScreen() {
  return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
}

/**
 * Asks the user what to share and returns its video track, marked as detailed
 * content so that the encoder keeps text sharp rather than the frame rate.
 * Resolves null when the user cancels; throws on other failures.
 */
export async function captureScreen() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    if (err?.name === 'NotAllowedError' || err?.name === 'AbortError') return null;
    throw err;
  }
  const track = stream.getVideoTracks()[0];
  if (!track) return null;
  if ('contentHint' in track) track.contentHint = 'detail';
  return track;
}
