// The WebSocket to the server and the message exchange of docs/protocol.md. It
// knows nothing of screens or WebRTC: messages go out as objects and come back
// to the handler registered for their type.

export const PROTOCOL_VERSION = 1;
const PING_INTERVAL_MS = 10_000;
const JOIN_TIMEOUT_MS = 15_000;

/** A failure with a code for the error element: a server error code or one of ours. */
export class SignalingError extends Error {
  /** detail: the server's message or reason, if any. */
  constructor(code, detail = '') {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
    this.detail = detail;
  }
}

/** Returns the signaling URL on this page's host: wss: under https, ws: otherwise. */
export function socketURL(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

export class Signaling {
  /** Called once if the socket closes without close() being called first. */
  onclose = null;
  /** Round trip of the last ping, in milliseconds (not shown anywhere yet). */
  rtt = null;

  #ws = null;
  #handlers = new Map();
  #closing = false;
  #pendingJoin = null;
  #pingTimer = 0;
  #seq = 0;
  #pingSent = new Map();

  /** Registers the handler for one server message type. */
  on(type, handler) {
    this.#handlers.set(type, handler);
    return this;
  }

  /** Opens the socket; rejects with "server-unreachable" if it cannot. */
  open(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.#ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve();
      };
      ws.onmessage = (event) => this.#dispatch(event.data);
      // Every error is followed by a close event, which says all we need.
      ws.onerror = () => {};
      ws.onclose = () => {
        clearInterval(this.#pingTimer);
        if (!opened) return reject(new SignalingError('server-unreachable'));
        if (this.#closing) return;
        this.#closing = true;
        this.#failJoin(new SignalingError('connection-lost'));
        this.onclose?.();
      };
    });
  }

  /**
   * Sends join and resolves with the server's joined message. token (a JWT) and
   * password go along when given. Waiting in the lobby has no time limit.
   */
  join(room, name, { token, password } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#failJoin(new SignalingError('join-timeout')), JOIN_TIMEOUT_MS);
      this.#pendingJoin = {
        resolve: (msg) => { clearTimeout(timer); resolve(msg); },
        reject: (err) => { clearTimeout(timer); reject(err); },
        wait: () => clearTimeout(timer),
      };
      const msg = { type: 'join', version: PROTOCOL_VERSION, room, name };
      if (token) msg.token = token;
      if (password) msg.password = password;
      this.send(msg);
    });
  }

  send(msg) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }

  /** Closes the socket on purpose: onclose is not called. */
  close() {
    this.#closing = true;
    clearInterval(this.#pingTimer);
    this.#failJoin(new SignalingError('connection-lost'));
    this.#ws?.close(1000);
  }

  #dispatch(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('parley: ignoring a server message that is not JSON');
      return;
    }
    if (typeof msg?.type !== 'string') return;
    if (this.#pendingJoin && this.#settleJoin(msg)) return;
    if (msg.type === 'pong') return this.#pong(msg);
    this.#handlers.get(msg.type)?.(msg);
  }

  // Until joined, the only answers that matter are joined, error and closed;
  // lobby-waiting stops the clock and goes on to its handler.
  #settleJoin(msg) {
    const join = this.#pendingJoin;
    if (msg.type === 'lobby-waiting') join.wait();
    if (msg.type === 'joined') {
      this.#pendingJoin = null;
      this.#startPings();
      join.resolve(msg);
      return true;
    }
    if (msg.type === 'error') {
      this.#failJoin(new SignalingError(msg.code || 'unknown', msg.message));
      return true;
    }
    if (msg.type === 'closed') {
      this.#failJoin(new SignalingError('closed', msg.reason));
      return true;
    }
    return false;
  }

  #failJoin(err) {
    const join = this.#pendingJoin;
    this.#pendingJoin = null;
    join?.reject(err);
  }

  // Pings start only after joined: the server answers anything before join with not-joined.
  #startPings() {
    this.#pingTimer = setInterval(() => {
      const seq = ++this.#seq;
      this.#pingSent.set(seq, performance.now());
      this.send({ type: 'ping', seq });
    }, PING_INTERVAL_MS);
  }

  #pong({ seq }) {
    const sent = this.#pingSent.get(seq);
    if (sent === undefined) return;
    this.rtt = performance.now() - sent;
    this.#pingSent.clear();
  }
}
