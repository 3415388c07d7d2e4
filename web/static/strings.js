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

  // Password and lobby (before the meeting)
  passwordTitle: 'This meeting has a password',
  passwordFor: (room) => `Enter the password for room ${room}.`,
  passwordLabel: 'Meeting password',
  passwordEmpty: "Enter the meeting's password.",
  passwordWrong: 'That password is not right. Check it with whoever invited you and try again.',
  lobbyTitle: 'Waiting for a moderator to let you in',
  lobbyBody: 'You will join as soon as a moderator admits you. Keep this page open.',
  lobbyRoom: (room) => `Room ${room}`,
  lobbyPreview: 'Your camera',
  leaveLobby: 'Leave',

  // Chat
  chat: 'Chat',
  chatEmpty: 'No messages yet. Messages here are seen by everyone in the meeting unless you pick one person.',
  chatTo: 'To',
  everyone: 'Everyone',
  chatMessage: 'Message',
  chatPlaceholder: 'Write a message',
  chatHint: 'Enter sends, Shift+Enter starts a new line.',
  send: 'Send',
  chatYou: 'You',
  chatPrivateTo: (name) => `privately to ${name}`,
  chatPrivateToYou: 'privately to you',
  chatTooLong: (max) => `Your message is too long. Shorten it to at most ${max} characters and send it again.`,
  chatNotSent: (why) => `Your message was not sent: ${why}`,
  chatFailed: 'the server refused it.',
  unread: (n) => `${n} unread ${n === 1 ? 'message' : 'messages'}`,
  closePanel: 'Close',

  // Hands, people and moderation
  raiseHand: 'Raise hand',
  handTitle: { on: 'Your hand is raised: click to lower it', off: 'Raise your hand' },
  handRaised: 'Hand raised',
  people: 'People',
  moderator: 'Moderator',
  micOn: 'Microphone on',
  camOn: 'Camera on',
  personAction: { mute: 'Mute', 'stop-video': 'Stop video', 'ask-unmute': 'Ask to unmute', 'grant-moderator': 'Make moderator', remove: 'Remove' },
  personActionLabel: {
    mute: (name) => `Mute ${name}`,
    'stop-video': (name) => `Stop video of ${name}`,
    'ask-unmute': (name) => `Ask to unmute ${name}`,
    'grant-moderator': (name) => `Make moderator ${name}`,
    remove: (name) => `Remove ${name}`,
  },
  meetingSettings: 'Meeting settings',
  lockMeeting: 'Lock the meeting',
  lockHint: 'Nobody new can join.',
  lobbySetting: 'Lobby',
  lobbyHint: 'Newcomers wait until a moderator lets them in. Turning it off lets everyone waiting in.',
  roomPasswordLabel: 'Password',
  roomPasswordNone: 'No password: anyone with the link can join.',
  roomPasswordSet: 'A password is set: newcomers must enter it.',
  setPassword: 'Set password',
  clearPassword: 'Remove password',
  muteAll: 'Mute everyone',
  endMeeting: 'End meeting for all',
  cancel: 'Cancel',
  confirmEnd: { title: 'End the meeting for everyone?', body: 'Everyone, you included, leaves the meeting now.', ok: 'End meeting' },
  confirmRemove: {
    title: (name) => `Remove ${name || 'this person'} from the meeting?`,
    body: 'They can join again with the link unless you lock the meeting.',
    ok: 'Remove',
  },
  lobbyWaiting: (n) => `Waiting to join (${n})`,
  knocking: (name) => `${name} wants to join`,
  admit: 'Admit',
  deny: 'Deny',
  admitLabel: (name) => `Admit ${name}`,
  denyLabel: (name) => `Deny ${name}`,
  roomState: 'Meeting settings in effect',
  stateLocked: 'Locked',
  stateLobby: 'Lobby on',
  statePassword: 'Password',
  mutedBy: (by, kind) => (kind === 'video' ? `${by} turned off your camera` : `${by} muted you`),
  unmuteAsked: (by, kind) => (kind === 'video' ? `${by} asks you to turn on your camera` : `${by} asks you to unmute`),
  unmuteAction: { audio: 'Unmute', video: 'Turn on camera' },
  nowModerator: 'You are now a moderator of this meeting.',

  // After the meeting
  leftTitle: 'You left the meeting',
  leftBody: 'Your camera and microphone are off.',
  rejoin: 'Rejoin',
  endedTitle: 'You are no longer in the meeting',
  // The server's reason ("you were removed from the meeting by Ann") as a sentence.
  endedReason: (reason) =>
    reason ? `${reason[0].toUpperCase()}${reason.slice(1)}${/[.!?]$/.test(reason) ? '' : '.'}` : 'The server ended your participation in the meeting.',
  joinAgain: 'Join again',
  errorTitle: 'Something went wrong',
  retry: 'Try again',
  dismiss: 'Dismiss',

  // Network: the pre-join check and the meeting's connection info (netcheck.js)
  netcheckButton: 'Test my connection',
  netcheckRunning: 'Testing your connection…',
  netcheckAgain: 'Test again',
  netcheckResults: 'Connection test results',
  netcheckItems: {
    webrtc: 'Audio and video in this browser',
    signaling: 'Connection to the server',
    'turn-udp': 'Relay over UDP',
    'turn-tcp': 'Relay over TCP',
    'turn-tls': 'Relay over TLS',
  },
  netcheckStatus: { running: '…', pass: 'OK', warn: 'Slow', fail: 'Failed', skip: '–' },
  netcheckDetail: {
    noWebRTC: 'this browser cannot do video calls',
    noSignaling: 'blocked; a firewall or proxy may stop WebSockets',
    roundTrip: (ms) => `${ms} ms round trip`,
    notOffered: 'not offered by this server',
    relayed: 'reachable',
    noRelay: 'not reachable from this network',
  },
  connectionPath: (label) => `Connection: ${label}`,
  pathLabel: { udp: 'UDP', tcp: 'TCP', 'relay-udp': 'relay (UDP)', 'relay-tcp': 'relay (TCP)', 'relay-tls': 'relay (TLS)' },
  pathTitle: {
    udp: 'Audio and video go directly to the server over UDP: the best path.',
    tcp: 'UDP is blocked: audio and video go to the server over TCP. It may stutter on a poor network.',
    'relay-udp': 'Audio and video go through a relay (TURN) over UDP.',
    'relay-tcp': 'Audio and video go through a relay (TURN) over TCP. It may stutter on a poor network.',
    'relay-tls': 'Only secure web traffic gets out here: audio and video go through a relay (TURN) over TLS, the slowest path.',
  },
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
  'auth-required': 'This meeting is for invited people only. Open it with the invitation link you were sent.',
  'auth-failed': 'Your invitation link was not accepted. Ask whoever invited you for a new one.',
  'password-required': 'This meeting has a password. Enter it to join.',
  'wrong-password': 'That password is not right. Check it and try again.',
  'room-locked': 'A moderator has locked this meeting. Ask them to unlock it, then try again.',
  'room-full': 'This meeting is full. Try again when someone has left.',
  'rate-limited': 'Too many attempts in a short time. Wait a minute, then try again.',
  'not-moderator': 'Only moderators can do that.',
  'bad-target': 'That person is no longer in the meeting.',
  'too-large': 'That was too long to send.',
  unknown: 'Something went wrong.',
};

// Server codes whose message would only repeat the title above.
const saidInTitle = new Set(['auth-required', 'password-required', 'wrong-password', 'room-locked', 'rate-limited', 'not-moderator', 'bad-target']);

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
  if (errorTitles[code]) return { title: errorTitles[code], detail: saidInTitle.has(code) ? '' : detail };
  // A server code without a title of its own: the server's message says it best.
  return detail ? { title: detail, detail: '' } : { title: errorTitles.unknown, detail: '' };
}
