// The network: which path the meeting's media takes (shown in the meeting
// header), the pre-join "Test my connection" check (the browser's share of
// `parley check`, docs/networking.md), and the ?relay=1 option that forces
// media through TURN (iceTransportPolicy "relay"), for testing relays.
//
// Test hooks (stable: the chromedp tests rely on them):
//   #connection-path[data-path]   "udp" | "tcp" | "relay-udp" | "relay-tcp" | "relay-tls" while
//                                 the meeting's media is connected on that path
//   #netcheck-results > li[data-check][data-status]  one per check after "Test my connection":
//                                 data-check "webrtc", "signaling", "turn-udp", "turn-tcp",
//                                 "turn-tls"; data-status "running", "pass", "warn", "fail", "skip";
//                                 the list gets data-done="true" when every check has finished

import { text } from './strings.js';
import { socketURL } from './signaling.js';

const PATH_POLL_MS = 2000;
const CHECK_TIMEOUT_MS = 10_000;
const PINGS = 5;
const SLOW_SIGNALING_MS = 500;

/** RTCPeerConnection options from the page's URL: ?relay=1 uses TURN only. */
export function peerOptions(loc = window.location) {
  return new URLSearchParams(loc.search).get('relay') === '1' ? { iceTransportPolicy: 'relay' } : {};
}

/**
 * The media path of a getStats() report: "udp" or "tcp" directly to the bridge,
 * "relay-<udp|tcp|tls>" through TURN, or null while no candidate pair is selected.
 */
export function pathOf(report) {
  const byId = new Map();
  let pairId = null;
  report.forEach((s) => {
    byId.set(s.id, s);
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  let pair = pairId ? byId.get(pairId) : null;
  // Browsers without transport stats mark the pair itself.
  if (!pair) {
    report.forEach((s) => {
      if (!pair && s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
    });
  }
  const local = pair && byId.get(pair.localCandidateId);
  if (!local) return null;
  // A peer-reflexive candidate learnt through a relay is relayed too: Chrome
  // gives it the relay's protocol.
  if (local.candidateType === 'relay' || local.relayProtocol) return `relay-${local.relayProtocol || 'udp'}`;
  return local.protocol === 'tcp' ? 'tcp' : 'udp';
}

/** Keeps #connection-path showing pc's media path until pc closes. */
export function watchPath(pc, el = document.getElementById('connection-path')) {
  if (!el) return;
  const owner = String(Math.random());
  const show = (path) => {
    el.hidden = !path;
    if (!path) {
      delete el.dataset.path;
      return;
    }
    el.dataset.path = path;
    el.textContent = text.connectionPath(text.pathLabel[path] ?? path);
    el.title = text.pathTitle[path] ?? '';
  };
  const timer = setInterval(async () => {
    if (pc.connectionState === 'closed') {
      clearInterval(timer);
      // A newer PeerConnection (after a media restart) may own the element now.
      if (el.dataset.owner === owner) show(null);
      return;
    }
    try {
      el.dataset.owner = owner;
      show(pathOf(await pc.getStats()));
    } catch {
      // Stats of a closing connection: the next round stops.
    }
  }, PATH_POLL_MS);
}

// ---- The pre-join check

/** Wires the "Test my connection" button to run the checks into the list. */
export function bindNetcheck(button, list) {
  let running = false;
  button.addEventListener('click', async () => {
    if (running) return;
    running = true;
    button.disabled = true;
    button.textContent = text.netcheckRunning;
    try {
      await runChecks(list);
    } finally {
      running = false;
      button.disabled = false;
      button.textContent = text.netcheckAgain;
    }
  });
}

async function runChecks(list) {
  list.replaceChildren();
  list.hidden = false;
  delete list.dataset.done;
  const row = (id) => {
    const li = document.createElement('li');
    li.dataset.check = id;
    li.dataset.status = 'running';
    const status = document.createElement('span');
    status.className = 'netcheck-status';
    const label = document.createElement('span');
    label.className = 'netcheck-label';
    li.append(status, label);
    list.append(li);
    const set = (state, detail = '') => {
      li.dataset.status = state;
      status.textContent = text.netcheckStatus[state];
      label.textContent = detail ? `${text.netcheckItems[id]}: ${detail}` : text.netcheckItems[id];
    };
    set('running');
    return set;
  };

  const webrtc = row('webrtc');
  if (typeof RTCPeerConnection !== 'function') {
    webrtc('fail', text.netcheckDetail.noWebRTC);
    list.dataset.done = 'true';
    return;
  }
  webrtc('pass');

  const signaling = row('signaling');
  const sig = await pingServer();
  if (!sig.ok) signaling('fail', text.netcheckDetail.noSignaling);
  else signaling(sig.rtt > SLOW_SIGNALING_MS ? 'warn' : 'pass', text.netcheckDetail.roundTrip(Math.round(sig.rtt)));

  let config = null;
  try {
    const resp = await fetch('/check/config', { cache: 'no-store' });
    if (resp.ok) config = await resp.json();
  } catch {
    // An older server: no relays to test.
  }
  const servers = turnURLs(config?.iceServers ?? []);
  const rows = ['turn-udp', 'turn-tcp', 'turn-tls'].map((id) => [id, row(id)]);
  await Promise.all(
    rows.map(async ([id, set]) => {
      const server = servers[id];
      if (!server) return set('skip', text.netcheckDetail.notOffered);
      set(...(await gatherRelay(server)));
    }),
  );
  list.dataset.done = 'true';
}

/** Opens a WebSocket to the server and measures the median round trip of a few pings. */
function pingServer() {
  return new Promise((resolve) => {
    let ws;
    try {
      ws = new WebSocket(socketURL());
    } catch {
      resolve({ ok: false });
      return;
    }
    const rtts = [];
    let sent = 0;
    const finish = (result) => {
      clearTimeout(timer);
      ws.onclose = ws.onmessage = null;
      ws.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false }), CHECK_TIMEOUT_MS);
    const ping = () => {
      sent = performance.now();
      ws.send(JSON.stringify({ type: 'ping', seq: rtts.length + 1 }));
    };
    ws.onopen = ping;
    ws.onclose = () => finish({ ok: false });
    ws.onmessage = ({ data }) => {
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
      if (msg.type !== 'pong' || msg.seq !== rtts.length + 1) return;
      rtts.push(performance.now() - sent);
      if (rtts.length < PINGS) return ping();
      rtts.sort((a, b) => a - b);
      finish({ ok: true, rtt: rtts[Math.floor(rtts.length / 2)] });
    };
  });
}

/** Picks one TURN URL per transport, with its credential: {turn-udp, turn-tcp, turn-tls}. */
function turnURLs(iceServers) {
  const out = {};
  for (const { urls, username, credential } of iceServers) {
    for (const url of [].concat(urls)) {
      let id = null;
      if (url.startsWith('turns:')) id = 'turn-tls';
      else if (url.startsWith('turn:')) id = url.includes('transport=tcp') ? 'turn-tcp' : 'turn-udp';
      if (id && !out[id]) out[id] = { urls: url, username, credential };
    }
  }
  return out;
}

/** Gathers candidates through one TURN server only; resolves [status, detail]. */
async function gatherRelay(server) {
  const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: 'relay' });
  try {
    const found = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
      pc.onicecandidate = ({ candidate }) => {
        if (candidate === null) {
          clearTimeout(timer);
          resolve(false);
        } else if (candidate.type === 'relay' || / typ relay /.test(candidate.candidate)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
    });
    pc.createDataChannel('check');
    await pc.setLocalDescription();
    return (await found) ? ['pass', text.netcheckDetail.relayed] : ['fail', text.netcheckDetail.noRelay];
  } catch {
    return ['fail', text.netcheckDetail.noRelay];
  } finally {
    pc.close();
  }
}
