import type { RoomStats } from "../room/room-stats";
import { attachmentBytes, encodeAttachment, MAX_ATTACHMENT_BYTES, type SessionAttachment } from "./attachment";
import type { EncodedMessage } from "./frames";
import { CLOSE, encodePollingPayload, NOOP, PING, type TransportName } from "./protocol";
import type { PacketBucket } from "./rate-limit";

export type CloseReason =
  | "transport close"
  | "transport error"
  | "client close"
  | "ping timeout"
  | "parse error"
  | "message too big"
  | "rate limited"
  | "outbox full"
  | "server close";

/** WebSocket close codes per reason (RFC 6455 section 7.4.1). */
const CLOSE_CODES: Record<CloseReason, number> = {
  "transport close": 1000,
  "transport error": 1011,
  "client close": 1000,
  "ping timeout": 1001,
  "parse error": 1002,
  "message too big": 1009,
  "rate limited": 1008,
  "outbox full": 1008,
  "server close": 1000,
};

const TEXT = new TextEncoder();
const NOTHING = () => {};
const NO_SUMMARY = () => "";

/**
 * During an upgrade, how often a pending GET is ended with a noop so that the
 * client can pause polling and send "5" (engine.io's own check, every 100 ms):
 * a packet for the client ends it sooner.
 */
const UPGRADE_CHECK_MS = 100;

/**
 * How long an upgrade may wait for "5" after "3probe" before it is given up
 * (engine.io's upgradeTimeout): the checks keep the object awake and answer the
 * client's GETs within 100 ms, so a client that never sends "5" must not keep
 * them going.
 */
export const UPGRADE_TIMEOUT_MS = 10_000;

/**
 * Most bytes a polling session may have waiting for its next GET: twice the
 * largest message a client may send, and never less than 2 MB, so that the
 * largest REST publish (1 MiB) always fits. Messages are shared between the
 * sessions that wait for them, so this bounds how far one client may fall
 * behind, not a copy per client.
 */
export function outboxLimit(maxHttpBufferSize: number): number {
  return Math.max(2 * maxHttpBufferSize, 2_000_000);
}

/** A connection's state (rooms, data, auth, handshake) outgrew what survives hibernation. */
export class StateTooLargeError extends Error {
  constructor(size: number) {
    super(`connection state too large (${size} > ${MAX_ATTACHMENT_BYTES} bytes)`);
  }
}

/**
 * One Engine.IO connection: a WebSocket, or a polling session (optionally upgrading).
 * Polling state lives only in memory: a polling client keeps the object awake.
 */
export class EngineSession<S = unknown> {
  transport: TransportName;
  webSocket: WebSocket | null = null;
  /** A WebSocket that has connected with this sid and not yet finished the upgrade. */
  upgradingSocket: WebSocket | null = null;
  /**
   * "3probe" went out on upgradingSocket: the client now pauses polling and sends "5".
   * Before it, a GET is an ordinary poll (it may carry the replies of the moment).
   */
  probeSent = false;
  closed = false;
  /** Last pong seen by JavaScript (pongs answered by the runtime are read from it instead). */
  lastPongAt: number;

  // Polling transport only.
  private outbox: (EncodedMessage | string)[] = [];
  /** Size of the outbox, as the messages are sent over a WebSocket. */
  private outboxBytes = 0;
  /** Over it (outboxLimit()), the session is closed ("outbox full"); set when the room registers it. */
  maxOutboxBytes = Infinity;
  /** Called (once, asynchronously) when the outbox would pass maxOutboxBytes: the client is not polling. */
  onOutboxFull: () => void = NOTHING;
  private pendingPoll: ReadableStreamDefaultController<Uint8Array> | null = null;
  postInFlight = false;
  nextPingAt = 0;
  pongDeadline = 0;
  /** Called (once, asynchronously) when a WebSocket send fails: the peer is gone. Shared by the room's sessions. */
  onTransportError: (session: EngineSession<S>) => void = NOTHING;
  private failed = false;
  /** The packets this client may still send now (MAX_PACKET_RATE), set when the room registers the session. */
  packets: PacketBucket | null = null;
  /** The room's counters (messages and bytes out), set when the room registers the session. */
  stats: RoomStats | null = null;
  /** The summary of `state` a wake reads without parsing it (src/engine.io/attachment.ts), set by the room. */
  summarize: (state: S) => string = NO_SUMMARY;

  constructor(
    readonly sid: string,
    readonly createdAt: number,
    transport: TransportName,
    public state: S,
  ) {
    this.transport = transport;
    this.lastPongAt = createdAt;
  }

  /** Sends an Engine.IO message to the client, over whichever transport is current. */
  send(message: EncodedMessage): void {
    if (this.closed) return;
    this.stats?.sent(message.byteLength);
    const ws = this.webSocket;
    if (ws !== null) {
      const frames = message.webSocketFrames;
      // One frame is the common case (text events): no iterator per recipient.
      if (frames.length === 1) this.write(ws, frames[0]);
      else for (const frame of frames) this.write(ws, frame);
    } else {
      this.enqueue(message, message.byteLength);
    }
  }

  /** Sends a control packet ("2", "6", ...) without payload. */
  sendControl(packet: string): void {
    if (this.closed) return;
    if (this.webSocket !== null) this.write(this.webSocket, packet);
    else this.enqueue(packet, packet.length);
  }

  /**
   * Queues for the next GET. A message that would pass the cap is dropped and the
   * session closed after the current send loop (a broadcast must not see its
   * recipients change mid-way); its client reconnects.
   */
  private enqueue(item: EncodedMessage | string, bytes: number): void {
    if (this.failed) return;
    if (this.pendingPoll === null && this.outboxBytes + bytes > this.maxOutboxBytes) {
      this.failed = true;
      queueMicrotask(this.onOutboxFull);
      return;
    }
    this.outbox.push(item);
    this.outboxBytes += bytes;
    this.flushPoll();
  }

  /** Sends one frame; a socket that can no longer send is reported, never thrown to the caller. */
  write(ws: WebSocket, frame: string | ArrayBuffer | ArrayBufferView): void {
    try {
      ws.send(frame);
    } catch {
      if (this.failed) return;
      this.failed = true;
      queueMicrotask(() => this.onTransportError(this));
    }
  }

  ping(now: number, pingInterval: number, pingTimeout: number): void {
    this.sendControl(PING);
    this.nextPingAt = now + pingInterval;
    this.pongDeadline = now + pingTimeout;
  }

  /**
   * Writes the attachment of the WebSocket that carries this session. Throws
   * StateTooLargeError, for polling sessions too, when the state would not fit
   * in an attachment: the caller undoes its change.
   */
  persist(): void {
    if (this.closed) return;
    const attachment: SessionAttachment<S> = {
      sid: this.sid,
      createdAt: this.createdAt,
      lastPongAt: this.lastPongAt,
      state: this.state,
    };
    const stored = encodeAttachment(attachment, this.summarize(this.state));
    const size = attachmentBytes(stored);
    if (size > MAX_ATTACHMENT_BYTES) throw new StateTooLargeError(size);
    this.webSocket?.serializeAttachment(stored);
  }

  // --- polling -------------------------------------------------------------

  /** GETs answered so far: tells a late abort of an old GET from one of the current GET. */
  polls = 0;

  get hasPendingPoll(): boolean {
    return this.pendingPoll !== null;
  }

  /** Answers a GET: at once when packets are waiting, otherwise a body that completes on the next packet. */
  openPoll(onAbort: () => void): ReadableStream<Uint8Array> | string {
    this.polls++;
    if (this.outbox.length > 0) return this.takeOutbox();
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.pendingPoll = controller;
      },
      cancel: () => {
        if (this.pendingPoll === null) return;
        this.pendingPoll = null;
        onAbort();
      },
    });
  }

  /** Ends the pending GET (if any) with what is queued plus `extra`. */
  endPoll(extra?: string): void {
    const controller = this.pendingPoll;
    if (controller === null) return;
    if (extra !== undefined) this.outbox.push(extra);
    this.pendingPoll = null;
    try {
      controller.enqueue(TEXT.encode(this.takeOutbox()));
      controller.close();
    } catch {
      // The client went away: nothing to deliver to.
    }
  }

  private flushPoll(): void {
    if (this.pendingPoll !== null) this.endPoll();
  }

  private takeOutbox(): string {
    const records: string[] = [];
    for (const item of this.outbox) {
      if (typeof item === "string") records.push(item);
      else records.push(...item.pollingFrames);
    }
    this.outbox = [];
    this.outboxBytes = 0;
    return encodePollingPayload(records);
  }

  // --- upgrade -------------------------------------------------------------

  /** A GET that arrived during an upgrade and waits for it to settle (see waitForUpgrade). */
  pollHeld = false;
  private upgradeWaiters: (() => void)[] | null = null;
  private upgradeCheck: ReturnType<typeof setInterval> | null = null;

  /**
   * Resolves when the upgrade completes or is given up, or after `ms`. A GET sent
   * just after the client's "5" can overtake it on the way to the object: held
   * briefly, it is answered as the spec says once the upgrade is complete.
   */
  waitForUpgrade(ms: number): Promise<void> {
    if (!this.probeSent) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      (this.upgradeWaiters ??= []).push(done);
    });
  }

  /**
   * "3probe" is sent: from now on a pending GET ends with the next packet or, as
   * in engine.io, with a noop at the next check. Ending it at once would hand the
   * client a packet socket.io never sends it there. `onTimeout` runs if no "5"
   * came within UPGRADE_TIMEOUT_MS; it is expected to give the upgrade up.
   */
  probeAnswered(onTimeout: () => void): void {
    this.probeSent = true;
    if (this.upgradeCheck !== null) return;
    const giveUpAt = Date.now() + UPGRADE_TIMEOUT_MS;
    this.upgradeCheck = setInterval(() => (Date.now() >= giveUpAt ? onTimeout() : this.endPoll(NOOP)), UPGRADE_CHECK_MS);
  }

  /** The probing WebSocket is gone or misbehaved: the session stays on polling. */
  abandonUpgrade(): void {
    this.upgradingSocket = null;
    this.probeSent = false;
    this.settleUpgrade();
  }

  private settleUpgrade(): void {
    if (this.upgradeCheck !== null) clearInterval(this.upgradeCheck);
    this.upgradeCheck = null;
    const waiters = this.upgradeWaiters;
    this.upgradeWaiters = null;
    if (waiters !== null) for (const done of waiters) done();
  }

  /** Completes an upgrade: the WebSocket becomes the transport and gets what polling had queued. */
  completeUpgrade(ws: WebSocket): void {
    this.endPoll(NOOP);
    // The upgrade proves the client alive; room-wide pings sent before it never reached it.
    this.lastPongAt = Date.now();
    this.transport = "websocket";
    this.webSocket = ws;
    this.upgradingSocket = null;
    this.probeSent = false;
    this.settleUpgrade();
    const queued = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const item of queued) {
      if (typeof item === "string") this.write(ws, item);
      else for (const frame of item.webSocketFrames) this.write(ws, frame);
    }
    this.persist();
  }

  /** Marks the session closed and releases its transports. `byClient` picks what a pending GET receives. */
  close(reason: CloseReason, byClient: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.settleUpgrade();
    // A polling client that asked to close gets a noop; one the server closes gets a close packet.
    this.endPoll(byClient ? NOOP : CLOSE);
    for (const ws of [this.webSocket, this.upgradingSocket]) {
      if (ws === null) continue;
      try {
        ws.close(CLOSE_CODES[reason], reason);
      } catch {
        // Already closed by the peer.
      }
    }
  }
}
