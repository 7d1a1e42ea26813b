/**
 * The soak's socket.io-clients: each in one room and one transport mode,
 * publishing numbered messages through the relay (with an ack), recording what
 * it receives and every connect and disconnect in the ledger, and taking the
 * faults the run injects into it: a dropped connection (the transport cut, as a
 * network loss does, back after a pause within or past the recovery window) or
 * a deliberate leave and rejoin.
 */
import { io } from "socket.io-client";

export const MODES = {
  "polling → websocket": ["polling", "websocket"],
  websocket: ["websocket"],
  polling: ["polling"],
};

const RECONNECT = { reconnectionDelay: 500, reconnectionDelayMax: 2000, randomizationFactor: 0.5 };

export class SoakClient {
  /** Confirmations still awaited: a message sent before the drain that is never confirmed stays unconfirmed. */
  pending = 0;
  unconfirmed = 0;
  drops = 0;
  leaves = 0;
  away = false;

  /** Set by drop(): whether the pause was within the recovery window. */
  dropped = null;
  leftAt = null;

  constructor({ id, room, mode, url, ledger, windowMs, outcomes }) {
    this.id = id;
    this.room = room;
    this.mode = mode;
    this.ledger = ledger;
    this.recipient = ledger.recipient(id, room);
    this.recipient.mode = mode;
    ledger.publisher(id, room, id);
    this.socket = io(url, { query: { room }, transports: MODES[mode], forceNew: true, ...RECONNECT });
    this.socket.on("connect", () => {
      const at = Date.now();
      const recovered = this.socket.recovered;
      let kind = null;
      if (this.recipient.connects > 0) {
        kind = this.reconnectKind(at, recovered, windowMs);
        let surprise = null;
        if (kind.includes("within the window: new session")) {
          surprise = { kind, client: id, mode, reason: this.lastReason, droppedAt: this.dropped.at, backAfterMs: at - this.dropped.at, lastFaultMsBeforeDrop: lastFaultBefore(ledger, room, this.dropped.at, at) };
        } else if (kind.startsWith("other")) {
          surprise = { kind, client: id, mode, reason: this.lastReason, lostAt: this.recipient.lostAt, backAfterMs: at - this.recipient.lostAt, lastFaultMsBeforeLoss: lastFaultBefore(ledger, room, this.recipient.lostAt, at) };
        }
        outcomes.count(kind, surprise);
      }
      this.recipient.connected(at, recovered, ledger, this.socket._lastOffset ?? null, kind);
      this.dropped = null;
      this.restoreReconnection();
    });
    this.socket.on("disconnect", (reason) => {
      this.lastReason = reason;
      this.recipient.disconnected(Date.now(), this.socket._lastOffset ?? null);
    });
    this.socket.on("msg", (payload) => this.recipient.received(payload, ledger));
  }

  /** What a reconnect was: after which kind of loss, and whether the session came back. */
  reconnectKind(at, recovered, windowMs) {
    const outcome = recovered ? "recovered" : "new session";
    if (this.dropped) return `drop ${at - this.dropped.at < windowMs ? "within" : "past"} the window: ${outcome}`;
    if (this.recipient.lostAt !== null && this.ledger.faultBetween(this.room, this.recipient.lastConnect, this.recipient.lostAt) !== null) {
      return `after a fault: ${outcome}`;
    }
    if (this.leftAt) {
      this.leftAt = null;
      return `after a leave: ${outcome}`;
    }
    return `other: ${outcome}`;
  }

  get connected() {
    return this.socket.connected;
  }

  ready(timeout = 60_000) {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id} (${this.mode}) did not connect`)), timeout);
      this.socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One numbered message to the others of its room; confirmed by the relay's ack. */
  publish() {
    const payload = this.ledger.send(this.id, Date.now());
    this.pending++;
    this.socket.emitWithAck("msg", payload).then(
      () => {
        this.pending--;
        this.ledger.confirm(this.id, payload.s, Date.now());
      },
      () => {
        // The connection went while the ack was due: the room may or may not have relayed it.
        this.pending--;
        this.unconfirmed++;
      },
    );
  }

  /** Cuts the transport; the client reconnects by itself after `awayMs`. */
  drop(awayMs, withinWindow) {
    if (!this.socket.connected) return false;
    this.drops++;
    this.dropped = { withinWindow, at: Date.now() };
    this.socket.io.reconnectionDelay(awayMs);
    this.socket.io.reconnectionDelayMax(awayMs);
    this.socket.io.randomizationFactor(0);
    this.socket.io.engine.close();
    return true;
  }

  /** Leaves deliberately (the room drops its state), and comes back as a new session after `awayMs`. */
  leave(awayMs) {
    if (!this.socket.connected) return false;
    this.leaves++;
    this.away = true;
    this.leftAt = Date.now();
    this.recipient.left(Date.now(), this.ledger);
    this.socket.disconnect();
    setTimeout(() => {
      this.away = false;
      this.socket.connect();
    }, awayMs).unref();
    return true;
  }

  restoreReconnection() {
    this.socket.io.reconnectionDelay(RECONNECT.reconnectionDelay);
    this.socket.io.reconnectionDelayMax(RECONNECT.reconnectionDelayMax);
    this.socket.io.randomizationFactor(RECONNECT.randomizationFactor);
  }

  close() {
    this.socket.disconnect();
  }
}

/** How long before `dropAt` the latest fault of the room (or runtime) came (negative: after the drop), or null. */
function lastFaultBefore(ledger, room, dropAt, until) {
  let latest = null;
  for (const key of [room, "*"]) for (const at of ledger.faults.get(key) ?? []) if (at <= until && (latest === null || at > latest)) latest = at;
  return latest === null ? null : dropAt - latest;
}
