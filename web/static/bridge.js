// The bridge channel of docs/protocol.md: JSON messages over the data channel
// "parley". The bridge tells us who speaks, what it forwards, the bandwidth it
// sees and which of our simulcast layers anyone receives; we tell it what the
// layout wants (`constraints`), debounced, and again each time the channel opens.

const CONSTRAINTS_DELAY_MS = 250;

export class BridgeChannel {
  /** The last `constraints` message sent, or null. */
  lastConstraints = null;
  /** The `sources` of the last `forwarded-sources`, or null before the first. */
  forwarded = null;
  /** The `suspended` list of the last `forwarded-sources`. */
  suspended = [];
  /** {estimate, used} of the last `bandwidth` message, or null. */
  bandwidth = null;

  #channel;
  #handlers;
  #constraints;
  #timer = 0;

  /**
   * channel: the RTCDataChannel. constraints(): the constraints message to send now,
   * or null while the layout cannot say (not shown). handlers: {onSpeaker(id,
   * speakers), onForwarded(sources, suspended), onLayers(source, active)}.
   */
  constructor(channel, constraints, handlers) {
    this.#channel = channel;
    this.#constraints = constraints;
    this.#handlers = handlers;
    channel.addEventListener('message', ({ data }) => this.#receive(data));
    channel.addEventListener('open', () => this.#sendConstraints());
  }

  /** Sends the constraints after a short quiet time: layouts change in bursts. */
  scheduleConstraints() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#sendConstraints(), CONSTRAINTS_DELAY_MS);
  }

  close() {
    clearTimeout(this.#timer);
  }

  #sendConstraints() {
    clearTimeout(this.#timer);
    if (this.#channel.readyState !== 'open') return; // sent again on open
    const msg = this.#constraints();
    if (!msg) return;
    const body = JSON.stringify(msg);
    if (body === JSON.stringify(this.lastConstraints)) return;
    try {
      this.#channel.send(body);
      this.lastConstraints = msg;
    } catch (err) {
      console.warn('parley: sending constraints failed:', err);
    }
  }

  #receive(data) {
    let msg;
    try {
      msg = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      msg = null;
    }
    if (typeof msg?.type !== 'string') {
      console.warn('parley: ignoring a bridge message that is not a JSON object with a type');
      return;
    }
    switch (msg.type) {
      case 'dominant-speaker':
        if (typeof msg.id === 'string') {
          this.#handlers.onSpeaker?.(msg.id, Array.isArray(msg.speakers) ? msg.speakers : [msg.id]);
        }
        break;
      case 'forwarded-sources':
        this.forwarded = msg.sources && typeof msg.sources === 'object' ? msg.sources : {};
        this.suspended = Array.isArray(msg.suspended) ? msg.suspended : [];
        this.#handlers.onForwarded?.(this.forwarded, this.suspended);
        break;
      case 'bandwidth':
        this.bandwidth = { estimate: msg.estimate, used: msg.used };
        break;
      case 'layers':
        if (typeof msg.source === 'string' && Array.isArray(msg.active)) this.#handlers.onLayers?.(msg.source, msg.active);
        break;
      case 'error':
        console.warn(`parley: the bridge refused a message: ${msg.code}: ${msg.message}`);
        break;
      default:
        // A newer bridge may say more than we understand.
        break;
    }
  }
}
