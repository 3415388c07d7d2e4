/*
 * Parley browser client: routing, screens and the hooks for tests.
 *
 * Routes (the server serves index.html for both):
 *   /                          start page
 *   /<room>                    pre-join screen for the room
 *   /<room>?name=Ann           pre-join screen with the name filled in
 *   /<room>?name=Ann&autojoin=1  joins at once with that name, camera and microphone
 *
 * Test hooks (stable: the chromedp end-to-end test relies on them):
 *   window.parley.state           "landing" | "prejoin" | "joining" | "meeting" | "left" | "error"
 *                                 (also mirrored in <body data-state>)
 *   window.parley.participantId   your participant id while in the meeting, else null
 *   window.parley.participants()  [{id, name, audioMuted, videoMuted}] for the others in the room
 *   await window.parley.stats()   {<participant id>: {framesDecoded, audioPacketsReceived}} for
 *                                 each other participant, summed over the inbound-rtp reports of
 *                                 pc.getStats(); a report belongs to the participant whose stream
 *                                 (streams[0].id at ontrack) last received its track
 *   [data-participant-id="<id>"]  one tile per participant in the meeting, yours with
 *                                 data-self="true"; the tile's <video> is inside it; the tile
 *                                 has data-video-off="true" while it shows the initials instead
 *                                 of video, and .indicator-mic-off / .indicator-cam-off inside
 *                                 it lose their hidden attribute while that device is muted
 *   [data-error]                  present only while an error shows; holds a short code:
 *                                 invalid-room, server-unreachable, connection-lost, join-timeout,
 *                                 closed, media-denied, media-missing, media-unavailable,
 *                                 media-insecure, webrtc-unsupported, webrtc-failed, or the
 *                                 server's error code (invalid-name, unavailable, ...)
 *   #mic-toggle, #cam-toggle      aria-pressed="true" while the device is on; #leave-button leaves
 *   #rejoin-button                on the "left" screen, joins again
 *   #retry-button                 on the "error" screen, joins again (hidden for invalid-room)
 */

import { text, errorText } from './strings.js';
import { normalizeName, normalizeRoom } from './names.js';
import { loadSettings } from './settings.js';
import { LocalMedia } from './devices.js';
import { Grid } from './layout.js';
import { bindMeetingControls } from './controls.js';
import { bindLanding } from './landing.js';
import { Prejoin } from './prejoin.js';
import { Meeting } from './meeting.js';

const $ = (id) => document.getElementById(id);

// Each state shows one <section>.
const SCREENS = { landing: 'landing', prejoin: 'prejoin', joining: 'joining', meeting: 'meeting', left: 'left', error: 'failed' };

const media = new LocalMedia();
/** The room being visited: {room, name, prefs: {audio, video}, devices: {audioDevice, videoDevice}}. */
let session = null;
/** The current Meeting, from join until leave or a fatal error. */
let meeting = null;

const parley = {
  state: 'landing',
  participantId: null,
  participants: () => meeting?.participants() ?? [],
  stats: async () => (meeting ? meeting.stats() : {}),
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

const grid = new Grid($('grid'));
const controls = bindMeetingControls(
  { mic: $('mic-toggle'), cam: $('cam-toggle'), leave: $('leave-button'), sound: $('sound-button'), copy: $('copy-link'), copyStatus: $('copy-status') },
  {
    onMic: (on) => meeting?.setDevice('audio', on),
    onCam: (on) => meeting?.setDevice('video', on),
    onLeave: () => leave(),
    onSound: () => grid.enableSound(),
  },
);
grid.onautoplayblocked = () => controls.showSound(true);

const prejoin = new Prejoin({ media, onJoin: () => join(), onMediaProblem: showMediaProblem });

async function join() {
  clearError();
  controls.showSound(false);
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
    grid,
    controls,
    onEnd: (code, detail) => end(m, code, detail),
    onNotice: (code, detail) => showError(code, { detail }),
    onNoticeClear: clearError,
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
  parley.participantId = m.you;
  setState('meeting');
}

function end(m, code, detail) {
  if (meeting !== m) return; // the user left meanwhile
  meeting = null;
  parley.participantId = null;
  media.stop();
  showError(code, { detail });
  if (code === 'invalid-name') {
    setState('prejoin');
    prejoin.show(session);
    prejoin.nameRefused();
    return;
  }
  $('retry-button').hidden = false;
  setState('error');
}

function leave() {
  const m = meeting;
  meeting = null;
  parley.participantId = null;
  m?.leave();
  media.stop();
  clearError();
  setState('left');
}

// ---- Routing

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
  session = {
    room,
    name: params.get('name') ?? saved.name,
    prefs: { audio: true, video: true },
    devices: { audioDevice: saved.audioDevice, videoDevice: saved.videoDevice },
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
$('retry-button').addEventListener('click', () => (session ? join() : window.location.reload()));
$('error-dismiss').addEventListener('click', () => clearError());
// Closing the tab: tell the server now rather than let it time the socket out.
window.addEventListener('pagehide', () => meeting?.leave());
route();
