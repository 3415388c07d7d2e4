// Every piece of text a user sees, in English. Other modules hold no prose, so a
// translation replaces this one file. index.html names its text by key
// (data-text, data-label, data-placeholder) and app.js fills it in from `text`.

export const text = {
  appName: 'Parley',
  tagline: 'Video meetings on your own server.',

  // Landing
  roomLabel: 'Room name',
  roomPlaceholder: 'e.g. team-standup',
  roomHint: 'Letters, digits, - and _, up to 64 characters.',
  roomInvalid: 'Use 1 to 64 letters, digits, - or _, starting with a letter or digit.',
  goToRoom: 'Go to room',
  or: 'or',
  newMeeting: 'Start a new meeting',

  // Pre-join
  readyToJoin: 'Ready to join?',
  roomIs: 'Room',
  nameLabel: 'Your name',
  namePlaceholder: 'Name others will see',
  nameInvalid: 'Enter a name of 1 to 64 characters.',
  nameRefused: 'Choose a different name.',
  cameraLabel: 'Camera',
  micLabel: 'Microphone',
  deviceFallback: (kind, n) => `${kind === 'video' ? 'Camera' : 'Microphone'} ${n}`,
  preview: 'Camera preview',
  previewStarting: 'Starting camera…',
  cameraIsOff: 'Camera is off',
  noCamera: 'No camera',
  join: 'Join',
  backHome: 'Back to start page',

  // Joining
  joining: 'Joining…',
  joiningRoom: (room) => `Connecting to room ${room}`,

  // Meeting
  meetingIn: 'Meeting in room',
  participants: 'Participants',
  controls: 'Meeting controls',
  microphone: 'Microphone',
  camera: 'Camera',
  leave: 'Leave',
  enableSound: 'Turn on sound',
  copyLink: 'Copy link',
  linkCopied: 'Link copied',
  toggleTitle: {
    audio: { on: 'Microphone is on: click to mute', off: 'Microphone is off: click to unmute' },
    video: { on: 'Camera is on: click to turn off', off: 'Camera is off: click to turn on' },
  },
  noDevice: { audio: 'No microphone available', video: 'No camera available' },
  you: (name) => `${name} (you)`,
  micOff: 'Microphone off',
  camOff: 'Camera off',
  devices: 'Devices',
  devicesTitle: 'Camera and microphone',
  done: 'Done',
  shareScreen: 'Share screen',
  screenTitle: { on: 'You are sharing your screen: click to stop', off: 'Share your screen' },
  tileView: 'Tile view',
  layoutTitle: { grid: 'Tile view: click to show the speaker large', stage: 'Speaker view: click to show everyone the same size' },
  stage: 'Stage',
  filmstrip: 'Other participants',
  screenOf: (name) => `${name}'s screen`,
  yourScreen: 'Your screen',
  pin: (label) => `Pin ${label} to the stage`,
  unpin: (label) => `Unpin ${label}`,

  // After the meeting
  leftTitle: 'You left the meeting',
  leftBody: 'Your camera and microphone are off.',
  rejoin: 'Rejoin',
  errorTitle: 'Something went wrong',
  retry: 'Try again',
  dismiss: 'Dismiss',
};

// "camera", "microphone", or both joined by `and` ("camera or microphone" when none was found).
const deviceWords = (kinds, and = 'and') =>
  kinds.length === 1 ? (kinds[0] === 'video' ? 'camera' : 'microphone') : `camera ${and} microphone`;

const receiveOnly = 'You can still join to see and hear the others.';

// Titles of the errors the client itself detects, and of the server's error codes
// (docs/protocol.md) that a user can act on. Other server codes show the server's message.
const errorTitles = {
  'invalid-room': 'This address is not a valid room name.',
  'server-unreachable': 'Could not reach the Parley server. Check your network connection and try again.',
  'connection-lost': 'The connection to the server was lost. Check your network connection and try again.',
  'join-timeout': 'The server did not answer in time. Try again in a moment.',
  closed: 'The server ended your participation in the meeting.',
  'webrtc-unsupported': 'This browser cannot send or receive audio and video (WebRTC is missing).',
  'webrtc-failed': 'Audio and video could not get through to the server. A firewall may be blocking them.',
  'screen-failed': 'Your screen could not be shared.',
  'invalid-name': 'The server refused this display name.',
  unavailable: 'The room could not be reached right now. Try again in a moment.',
  'unsupported-version': 'This page is out of date for the server. Reload the page.',
  internal: 'The server failed. Trying again may help.',
  unknown: 'Something went wrong.',
};

/**
 * Returns {title, detail} for an error code. kinds lists the devices a media error
 * hit ('audio', 'video'); detail is the server's message or reason, if any.
 */
export function errorText(code, { kinds = ['audio', 'video'], detail = '' } = {}) {
  const what = deviceWords(kinds);
  switch (code) {
    case 'media-denied':
      return { title: `Access to your ${what} was blocked.`, detail: `${receiveOnly} To be seen and heard, allow access in your browser's site settings and reload.` };
    case 'media-missing':
      return { title: `No ${deviceWords(kinds, 'or')} was found.`, detail: receiveOnly };
    case 'media-unavailable':
      return { title: `Your ${what} could not be started. Another app may be using it.`, detail: receiveOnly };
    case 'media-insecure':
      return { title: 'Camera and microphone need a secure (https) connection to this server.', detail: receiveOnly };
  }
  if (errorTitles[code]) return { title: errorTitles[code], detail };
  // A server code without a title of its own: the server's message says it best.
  return detail ? { title: detail, detail: '' } : { title: errorTitles.unknown, detail: '' };
}
