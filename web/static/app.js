/*
 * Parley browser client: routing, screens and the hooks for tests.
 *
 * Routes (the server serves index.html for both):
 *   /                          start page
 *   /<room>                    pre-join screen for the room
 *   /<room>?name=Ann           pre-join screen with the name filled in
 *   /<room>?name=Ann&autojoin=1  joins at once with that name, camera and microphone
 *   /<room>?jwt=<token>        joins with that join token (the page removes it from the address)
 *
 * Test hooks (stable: the chromedp end-to-end test relies on them):
 *   window.parley.state           "landing" | "prejoin" | "joining" | "password" | "lobby" | "meeting"
 *                                 | "left" | "ended" | "error" (also mirrored in <body data-state>):
 *                                 "password" while the room asks for its password (#password-input,
 *                                 #password-submit; #password-hint shows why the last one failed),
 *                                 "lobby" while waiting for a moderator (#lobby-leave gives up),
 *                                 "ended" when the server ended our participation (removed, turned
 *                                 away from the lobby, meeting ended): #ended-reason says why,
 *                                 #ended-rejoin joins again
 *   window.parley.participantId   your participant id while in the meeting, else null
 *   window.parley.participants()  [{id, name, audioMuted, videoMuted, role, handRaisedAt}] for the
 *                                 others in the room
 *   window.parley.role()          your role: "moderator" | "participant", or null outside a meeting
 *   window.parley.roomState()     {locked, lobby, hasPassword}: the room's policy as last told
 *   window.parley.chat()          [{id, from, name, to, text, time}]: every chat message received in
 *                                 this meeting, the history at join first
 *   window.parley.lobby()         [{id, name}]: guests waiting in the lobby (moderators only hear of them)
 *   #hand-toggle                  aria-pressed="true" while your hand is raised; tiles show
 *                                 .indicator-hand (not hidden) for a raised hand
 *   #chat-toggle, #people-toggle  open and close the chat and participant panels (aria-expanded);
 *                                 #chat-unread shows the number of unread messages (hidden when none
 *                                 or while the chat is open); #chat-input (Enter sends), #chat-to
 *                                 (recipient: "" for everyone or a participant id), #chat-log holds one
 *                                 li.chat-message[data-chat-id] per message, data-private="true" on
 *                                 private ones; #chat-error shows why a message was refused
 *   [data-person-id="<id>"]       one row per participant in #people-list (data-hand="true" while their
 *                                 hand is up, raised hands first); for moderators its
 *                                 button[data-action][data-target="<id>"]: mute, stop-video, ask-unmute,
 *                                 grant-moderator, remove (asks in #confirm-dialog: #confirm-ok)
 *   [data-lobby-id="<id>"]        a waiting guest in #lobby-card (moderators): button[data-action="admit"]
 *                                 and button[data-action="deny"]
 *   #lock-toggle, #lobby-toggle   moderators' switches (aria-checked); #room-password with
 *                                 #room-password-set sets the password, #room-password-clear removes it;
 *                                 #mute-all; #end-meeting asks in #confirm-dialog (#confirm-ok ends it)
 *   #state-locked, #state-lobby, #state-password  the header's room state (hidden when off)
 *   [data-notice="<kind>"]        a toast in #toasts: muted, unmute-request (its button[data-action="unmute"]
 *                                 turns the device on), moderator, error
 *   await window.parley.stats()   {<participant id>: {framesDecoded, audioPacketsReceived,
 *                                 screenFramesDecoded, frameHeight, videoPacketsReceived,
 *                                 videoBytesReceived, videoPacketsLost}} for each other participant,
 *                                 summed over the inbound-rtp reports of pc.getStats(); a report
 *                                 belongs to the participant whose stream (streams[0].id at
 *                                 ontrack) last received its track. framesDecoded counts camera
 *                                 frames, screenFramesDecoded screen share frames, frameHeight is
 *                                 the height of the last camera frame (0 before any); the video
 *                                 packet counts are the camera's (RTCInboundRtpStreamStats)
 *   window.parley.layout          "stage" | "grid": the layout in use (also <body data-layout>)
 *   window.parley.stage()         the source id on the stage ("<participant>-video" or
 *                                 "<participant>-screen"), or null in the grid layout
 *   window.parley.forwarded()     the `sources` object of the bridge's last forwarded-sources
 *                                 message ({<source id>: height}), or null before the first
 *   window.parley.bandwidth()     {estimate, used} of the bridge's last bandwidth message, or null
 *   window.parley.lastConstraints()  the last constraints message sent to the bridge, or null
 *   await window.parley.sentHeights()  {<rid, or mid<mid> without layers>: frameHeight} of the
 *                                 video we send, as the encoder sends it now (an encoder short of CPU
 *                                 sends fewer or smaller layers)
 *   window.parley.publishing()    {tracks: [{mid, source}] as in our offers, layers: {video: [bool],
 *                                 screen: [bool]}: which of our encodings are active, lowest first}
 *   [data-participant-id="<id>"]  one tile per participant in the meeting (their camera), yours with
 *                                 data-self="true"; the tile's <video> is inside it; the tile
 *                                 has data-video-off="true" while it shows the initials instead
 *                                 of video, and .indicator-mic-off / .indicator-cam-off inside
 *                                 it lose their hidden attribute while that device is muted
 *   [data-source-id="<source id>"]  every tile: "<participant>-video" on camera tiles,
 *                                 "<participant>-screen" on screen share tiles, which carry
 *                                 data-screen-of="<participant>" (and no data-participant-id);
 *                                 data-pinned="true" on the pinned tile, data-speaking="true" on
 *                                 the dominant speaker's camera, data-on-stage="true" on the stage
 *                                 tile; clicking a tile other than yours pins or unpins it
 *   [data-error]                  present only while an error shows; holds a short code:
 *                                 invalid-room, server-unreachable, connection-lost, join-timeout,
 *                                 media-denied, media-missing, media-unavailable,
 *                                 media-insecure, webrtc-unsupported, webrtc-failed, screen-failed,
 *                                 or the server's error code (invalid-name, unavailable, auth-required,
 *                                 auth-failed, room-locked, room-full, rate-limited, ...)
 *   #mic-toggle, #cam-toggle      aria-pressed="true" while the device is on; #leave-button leaves
 *   #screen-toggle                aria-pressed="true" while sharing the screen; click to start or stop
 *                                 (hidden where the browser cannot capture the screen)
 *   #devices-button               opens #devices-dialog: #meeting-camera and #meeting-mic switch devices
 *   #layout-toggle                aria-pressed="true" in the grid ("tile view"); click to switch
 *   #rejoin-button                on the "left" screen, joins again
 *   #retry-button                 on the "error" screen, joins again (hidden for invalid-room)
 */

import { text, errorText } from './strings.js';
import { normalizeName, normalizeRoom } from './names.js';
import { loadSettings, saveSettings } from './settings.js';
import { LocalMedia } from './devices.js';
import { Layout } from './layout.js';
import { bindMeetingControls } from './controls.js';
import { bindDeviceDialog } from './devicemenu.js';
import { bindLanding } from './landing.js';
import { Prejoin } from './prejoin.js';
import { Meeting } from './meeting.js';
import { RoomView } from './room.js';
import { PasswordPrompt } from './password.js';
import { WaitingRoom } from './lobby.js';

const $ = (id) => document.getElementById(id);

// Each state shows one <section>.
const SCREENS = {
  landing: 'landing',
  prejoin: 'prejoin',
  joining: 'joining',
  password: 'password',
  lobby: 'lobby',
  meeting: 'meeting',
  left: 'left',
  ended: 'ended',
  error: 'failed',
};

// Join errors that another try cannot fix: the link itself is wrong.
const LINK_ERRORS = new Set(['auth-required', 'auth-failed']);

const media = new LocalMedia();
/**
 * The room being visited: {room, name, prefs: {audio, video}, devices: {audioDevice, videoDevice},
 * token (a join token, or ''), password (the room's, once asked for, or '')}.
 */
let session = null;
/** The current Meeting, from join until leave or a fatal error. */
let meeting = null;

const parley = {
  state: 'landing',
  participantId: null,
  participants: () => meeting?.participants() ?? [],
  stats: async () => (meeting ? meeting.stats() : {}),
  get layout() {
    return layout.mode;
  },
  stage: () => layout.stage,
  forwarded: () => meeting?.bridge?.forwarded ?? null,
  bandwidth: () => meeting?.bridge?.bandwidth ?? null,
  lastConstraints: () => meeting?.bridge?.lastConstraints ?? null,
  publishing: () => meeting?.publishing() ?? { tracks: [], layers: {} },
  sentHeights: async () => (meeting ? meeting.sentHeights() : {}),
  role: () => roomView.role,
  roomState: () => roomView.state,
  chat: () => [...roomView.chat.messages],
  lobby: () => roomView.lobby.guests(),
};
window.parley = parley;

// ---- Text and screens

function applyText() {
  document.title = text.appName;
  for (const el of document.querySelectorAll('[data-text]')) el.textContent = text[el.dataset.text];
  for (const el of document.querySelectorAll('[data-label]')) el.setAttribute('aria-label', text[el.dataset.label]);
  for (const el of document.querySelectorAll('[data-placeholder]')) el.placeholder = text[el.dataset.placeholder];
}

function setState(state) {
  parley.state = state;
  document.body.dataset.state = state;
  for (const [name, id] of Object.entries(SCREENS)) $(id).hidden = name !== state;
  // A fatal error is the content of the error screen; any other sits above the screen.
  if (state === 'error') $('failed-title').after($('error'));
  else $('app').prepend($('error'));
  // Keyboard and screen-reader users start at the top of the new screen.
  $(SCREENS[state]).querySelector('[data-focus]')?.focus({ preventScroll: true });
}

// ---- Errors

function showError(code, options) {
  const { title, detail } = errorText(code, options);
  const el = $('error');
  el.dataset.error = code;
  $('error-title').textContent = title;
  $('error-detail').textContent = detail;
  $('error-detail').hidden = !detail;
  el.hidden = false;
}

/** Hides the error; with a code, only if that error is the one showing. */
function clearError(code) {
  const el = $('error');
  if (code && el.dataset.error !== code) return;
  delete el.dataset.error;
  el.hidden = true;
}

function showMediaProblem(problem) {
  if (problem) showError(problem.code, { kinds: problem.kinds });
  else if ($('error').dataset.error?.startsWith('media-')) clearError();
}

// ---- Meeting

const layout = new Layout({ root: $('tiles'), stage: $('stage'), filmstrip: $('filmstrip'), grid: $('grid') });
let screenPending = false; // the browser's screen picker is open
const controls = bindMeetingControls(
  {
    mic: $('mic-toggle'),
    cam: $('cam-toggle'),
    screen: $('screen-toggle'),
    layout: $('layout-toggle'),
    leave: $('leave-button'),
    sound: $('sound-button'),
    copy: $('copy-link'),
    copyStatus: $('copy-status'),
  },
  {
    onMic: (on) => meeting?.setDevice('audio', on),
    onCam: (on) => meeting?.setDevice('video', on),
    onScreen: async (on) => {
      if (screenPending || !meeting) return;
      screenPending = true;
      try {
        await meeting.setScreen(on);
      } finally {
        screenPending = false;
      }
    },
    onLayout: () => layout.toggleMode(),
    onLeave: () => leave(),
    onSound: () => layout.enableSound(),
  },
);
const deviceDialog = bindDeviceDialog(
  { button: $('devices-button'), dialog: $('devices-dialog'), camera: $('meeting-camera'), microphone: $('meeting-mic') },
  {
    media,
    onSwitch: async (kind, deviceId) => {
      if (!meeting) return;
      showMediaProblem(await meeting.switchDevice(kind, deviceId));
      session.devices[`${kind}Device`] = deviceId;
      saveSettings({ [`${kind}Device`]: deviceId });
    },
  },
);
layout.onautoplayblocked = () => controls.showSound(true);
layout.onchange = () => meeting?.layoutChanged();
layout.onmodechange = (mode) => {
  document.body.dataset.layout = mode;
  controls.setLayout(mode);
};
layout.onmodechange(layout.mode);

const prejoin = new Prejoin({ media, onJoin: () => join(), onMediaProblem: showMediaProblem });
const roomView = new RoomView({
  send: (msg) => meeting?.send(msg),
  // A moderator muted us: the device goes off here too, and the server hears so.
  onForceMute: (kind) => meeting?.setDevice(kind, false),
  onUnmute: (kind) => meeting?.setDevice(kind, true),
});
const passwordPrompt = new PasswordPrompt({
  onSubmit: (password) => {
    session.password = password;
    join();
  },
});
const waitingRoom = new WaitingRoom({ onLeave: () => leave() });

async function join() {
  clearError();
  controls.showSound(false);
  roomView.reset();
  setState('joining');
  if (!media.started) await media.start(session.devices);
  showMediaProblem(media.problem);
  // A device that is off keeps its track, so turning it on later needs no renegotiation.
  media.setEnabled('audio', session.prefs.audio);
  media.setEnabled('video', session.prefs.video);

  const m = new Meeting({
    room: session.room,
    name: session.name,
    media,
    prefs: session.prefs,
    layout,
    controls,
    onEnd: (code, detail) => end(m, code, detail),
    onNotice: (code, detail) => showError(code, { detail }),
    onNoticeClear: clearError,
    token: session.token,
    password: session.password,
    onMessage: (msg) => {
      if (msg.type !== 'lobby-waiting') return roomView.message(msg);
      setState('lobby');
      waitingRoom.show(session.room, media.stream.getVideoTracks());
      return true;
    },
    onPeople: (self, others) => roomView.people(self, others),
  });
  meeting = m;
  try {
    await m.start();
  } catch (err) {
    console.warn('parley: joining failed:', err);
    end(m, err.code ?? 'unknown', err.detail ?? err.message);
    return;
  }
  if (meeting !== m) return;
  waitingRoom.hide();
  parley.participantId = m.you;
  setState('meeting');
  // Tile sizes mean something only now that the meeting shows.
  layout.refresh();
}

/** Forgets the current meeting and clears what showed it; returns that meeting, or null. */
function dropMeeting() {
  const m = meeting;
  // end() ignores a meeting that is no longer the current one: leaving reports no error.
  meeting = null;
  deviceDialog.close();
  waitingRoom.hide();
  roomView.reset();
  parley.participantId = null;
  return m;
}

function end(m, code, detail) {
  if (meeting !== m) return; // the user left meanwhile
  dropMeeting();
  media.stop();
  if (code === 'password-required' || code === 'wrong-password') {
    clearError();
    passwordPrompt.show(session.room, code === 'wrong-password');
    setState('password');
    return;
  }
  if (code === 'closed') {
    clearError();
    $('ended-reason').textContent = text.endedReason(detail);
    setState('ended');
    return;
  }
  showError(code, { detail });
  if (code === 'invalid-name') {
    setState('prejoin');
    prejoin.show(session);
    prejoin.nameRefused();
    return;
  }
  $('retry-button').hidden = LINK_ERRORS.has(code);
  setState('error');
}

function leave() {
  dropMeeting()?.leave();
  media.stop();
  clearError();
  setState('left');
}

// ---- Routing

/**
 * The join token from ?jwt=, which then leaves the address bar: a copied link
 * must not carry someone's identity. The tab keeps it (sessionStorage) so that
 * a reload still joins with it.
 */
function takeToken(room, params) {
  const key = `parley-jwt:${room}`;
  const token = params.get('jwt');
  if (token === null) {
    try {
      return sessionStorage.getItem(key) ?? '';
    } catch {
      return '';
    }
  }
  params.delete('jwt');
  const query = params.toString();
  history.replaceState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`);
  try {
    sessionStorage.setItem(key, token);
  } catch {
    // Storage refused (private mode): the token lasts as long as the page.
  }
  return token;
}

/**
 * The display name a join token carries, or null: it fills in the name field.
 * Only the server checks the token; its name claim wins there anyway.
 */
function tokenName(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    const { name } = JSON.parse(new TextDecoder().decode(bytes));
    return typeof name === 'string' && name ? name : null;
  } catch {
    return null;
  }
}

function route() {
  let segment;
  try {
    segment = decodeURIComponent(window.location.pathname);
  } catch {
    segment = window.location.pathname;
  }
  segment = segment.replace(/^\/+|\/+$/g, '');
  if (!segment) {
    setState('landing');
    return;
  }
  const room = normalizeRoom(segment);
  if (!room) {
    showError('invalid-room', { detail: text.roomInvalid });
    $('retry-button').hidden = true;
    setState('error');
    return;
  }
  // Room names are case-insensitive: show the one the server will use.
  if (room !== segment) history.replaceState(null, '', `/${room}${window.location.search}`);

  const params = new URLSearchParams(window.location.search);
  const saved = loadSettings();
  const token = takeToken(room, params);
  session = {
    room,
    name: params.get('name') ?? tokenName(token) ?? saved.name,
    prefs: { audio: true, video: true },
    devices: { audioDevice: saved.audioDevice, videoDevice: saved.videoDevice },
    token,
    password: '',
  };
  document.title = `${room} · ${text.appName}`;
  $('joining-room').textContent = text.joiningRoom(room);
  $('meeting-room').textContent = room;

  const name = normalizeName(session.name);
  if (params.get('autojoin') === '1' && name) {
    session.name = name;
    join();
    return;
  }
  setState('prejoin');
  prejoin.show(session);
}

applyText();
bindLanding((room) => window.location.assign(`/${room}`));
$('rejoin-button').addEventListener('click', () => join());
$('ended-rejoin').addEventListener('click', () => join());
$('retry-button').addEventListener('click', () => (session ? join() : window.location.reload()));
$('error-dismiss').addEventListener('click', () => clearError());
// Closing the tab: tell the server now rather than let it time the socket out.
window.addEventListener('pagehide', () => meeting?.leave());
route();
