import { DurableObject } from "cloudflare:workers";
import type { Packet } from "engine.io-parser";
import { readServerOptions, type EngineSettings, type Env, type ServerOptions } from "../config";
import { EncodedMessage } from "../engine.io/frames";
import {
  CLOSE,
  decodeClientPacket,
  decodePollingPayload,
  EngineError,
  NOOP,
  openPacket,
  PING,
  parseEngineRequest,
  PONG,
  type EngineErrorBody,
} from "../engine.io/protocol";
import { afterRound, emptyHeartbeat, firstPingAt, firstPingSettles, judgedRound, roundDue, tickLength, type HeartbeatState } from "../engine.io/heartbeat";
import {
  attachmentSummary,
  decodeAttachment,
  encodeAttachment,
  isAttachmentOf,
  isStoredAttachment,
  isUpgradeAttachment,
  type SessionAttachment,
} from "../engine.io/attachment";
import { EngineSession, outboxLimit, type CloseReason } from "../engine.io/session";
import { PacketBucket } from "../engine.io/rate-limit";
import { newSessionId } from "./ids";
import { readAtMost } from "../http/read-limited";
import { isOriginAllowed } from "../worker/cors";
import { allowedBy, refuseHandshake } from "./allow-request";
import { CLOSE_ERRORS, RoomStats } from "./room-stats";

/**
 * Writes of the heartbeat's bookkeeping (its alarm, its rounds) do not hold the
 * room's outgoing messages until they are on disk (the output gate): a handshake
 * or a CONNECT reply is not delayed by an alarm being set. Should such a write
 * fail, the runtime resets the object, which ends its connections anyway.
 */
const UNCONFIRMED = { allowUnconfirmed: true } as const;

/** Storage key of the room's WebSocket ping rounds (survives hibernation). */
const HEARTBEAT_KEY = "engine:heartbeat";

/** WebSocket tags, fixed at accept: the handshake time (for the first ping), and whether it came as an upgrade. */
const CREATED_TAG = "created:";
const UPGRADE_TAG = "upgrade";
/**
 * How long a GET that arrives during an upgrade waits for the upgrade to settle
 * before it is answered with a noop (socket.io checks every 100 ms); also how
 * long a GET overtaken by its client's close is still answered.
 */
const UPGRADE_POLL_HOLD_MS = 100;
/** WebSockets pinged between two chances for other events to run (see alarm()). */
export const PING_SLICE = 256;

/** An open WebSocket of the room, as a heartbeat round sees it: its handshake time comes from its tags. */
export interface HeartbeatSocket {
  ws: WebSocket;
  createdAt: number;
}
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder();
/** A handshake's query string is kept with the connection (16 KB in all): bound it. */
const MAX_HANDSHAKE_QUERY = 4096;

/**
 * An Engine.IO v4 server inside a Durable Object: it owns the room's WebSockets
 * through the Hibernation API and its polling sessions in memory, and hands
 * decoded messages to the layer above (Socket.IO, or the conformance echo).
 *
 * Heartbeat: one alarm per object (schedule in src/engine.io/heartbeat.ts).
 * WebSockets are pinged together once per interval, each one first
 * pingInterval after its handshake; their pongs are answered by the runtime
 * (auto-response "3" → "6") without waking the object, and a socket whose last
 * pong is older than a round sent at least pingTimeout ago is reaped at the
 * next round. A round rebuilds no session. Polling sessions have their own
 * deadlines, on the same alarm.
 */
export abstract class EngineRoom<S = unknown> extends DurableObject<Env> {
  /** What the room's class set in code (`serverSettings()`). */
  protected readonly settings: EngineSettings;
  /** The options in force: vars over `settings` over defaults (src/config.ts). */
  protected readonly options: ServerOptions;
  protected readonly sessions = new Map<string, EngineSession<S>>();
  readonly #sessionsBySocket = new Map<WebSocket, EngineSession<S>>();
  /**
   * WebSockets an earlier instance accepted whose sessions are not rebuilt yet,
   * with their stored attachments (parsed when rebuilt); null until this
   * instance first looks (indexDormant).
   */
  #dormant: Map<WebSocket, string> | null = null;
  /** Polling sessions the client closed with no GET waiting: sid → when (see rememberClientClose). */
  readonly #closedByClient = new Map<string, number>();
  /** Polling sessions closed for a full outbox: sid → when; their next GET gets the close packet (see register). */
  readonly #closedForOutbox = new Map<string, number>();
  #alarmAt: number | null | undefined = undefined;
  /** Mirrors storage; loaded on the first alarm after a wake. */
  #heartbeat: HeartbeatState | undefined;
  /** One handler for every session's failed send (no closure per connection). */
  readonly #transportError = (session: EngineSession<S>) => this.closeSession(session, "transport error");
  /** Likewise for the summary each session writes in front of its attachment. */
  readonly #summarize = (state: S) => this.dormantSummary(state);
  /** Operator counters (GET /v1/rooms/{room}/stats); constructing them counts this wake. */
  protected readonly stats: RoomStats;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stats = new RoomStats(ctx.storage);
    this.settings = this.serverSettings();
    this.options = readServerOptions(env, this.settings);
    ctx.setWebSocketAutoResponse(
      this.options.pongAutoResponse ? new WebSocketRequestResponsePair(PONG, NOOP) : undefined,
    );
  }

  // --- hooks for the layer above ------------------------------------------

  /** Server options in code, as socket.io's `new Server(options)`; a var that is set overrides each one. */
  protected serverSettings(): EngineSettings {
    return {};
  }

  /**
   * Decides whether a handshake (a request without sid) may open a session,
   * before anything exists for it: `true` accepts, `false` refuses with 403
   * "Forbidden", a string refuses with that message (socket.io's
   * `callback(message, false)`). Async allowed. By default, asks the
   * `allowRequest` callback of `serverSettings()`, if any.
   */
  protected allowRequest(request: Request): boolean | string | Promise<boolean | string> {
    return allowedBy(this.settings.allowRequest, request);
  }

  /** Initial state of a new connection, stored in its attachment. */
  protected abstract initialState(request: Request): S;
  /** A new Engine.IO connection is open (its handshake has been sent). */
  protected onEngineOpen(_session: EngineSession<S>): void {}
  /** A message (text or binary) arrived from the client. */
  protected abstract onEngineMessage(session: EngineSession<S>, data: string | ArrayBuffer): void;
  /** The connection is gone; it no longer receives anything. */
  protected onEngineClose(_session: EngineSession<S>, _reason: CloseReason): void {}
  /** A polling connection now runs over its WebSocket. */
  protected onEngineUpgrade(_session: EngineSession<S>): void {}
  /** A WebSocket session is back in memory after the object woke from hibernation. */
  protected onEngineRestore(_session: EngineSession<S>): void {}
  /**
   * The part of a connection's state that every wake reads for each of its
   * WebSockets, before any session is rebuilt: what the layer above's
   * broadcasts need (no line feed; JSON has none). Kept small: the rest of the
   * state is only parsed for a session that is rebuilt.
   */
  protected dormantSummary(_state: S): string {
    return "";
  }
  /**
   * A WebSocket of an earlier instance, seen once per wake with its summary
   * (dormantSummary) before its session is rebuilt (if ever): the layer above
   * indexes what its broadcasts need. `dormantState(ws)` reads its whole
   * state, `sessionOf(ws)` rebuilds the session.
   */
  protected onEngineDormant(_ws: WebSocket, _summary: string): void {}
  /**
   * Called at every alarm, with the room's open WebSockets and their handshake
   * times (their sessions are not in memory unless something else woke the
   * object: dormantState(ws) reads one's state, sessionOf(ws) rebuilds one).
   * Returns the next time the layer above needs an alarm, if any.
   */
  protected onEngineTick(_now: number, _webSockets: readonly HeartbeatSocket[]): number | null {
    return null;
  }

  // --- entry points -------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    this.indexDormant();
    const url = new URL(request.url);
    const isUpgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
    const parsed = parseEngineRequest(url, request.method, isUpgrade);
    if ("error" in parsed) return engineError(parsed.error);
    // Origins set in code (the Worker in front only knows the CORS_ORIGINS var).
    if (!isOriginAllowed(request.headers.get("Origin"), this.options.corsOrigins)) return engineError(EngineError.FORBIDDEN, 403);

    if (parsed.sid === null) {
      if (url.search.length > MAX_HANDSHAKE_QUERY) {
        return engineError({ code: EngineError.BAD_REQUEST.code, message: `Query string longer than ${MAX_HANDSHAKE_QUERY} characters` });
      }
      const refusal = await refuseHandshake(() => this.allowRequest(request), parsed.transport);
      if (refusal !== null) {
        this.stats.count("connect_refused");
        return refusal;
      }
      const now = Date.now();
      const response = parsed.transport === "websocket" ? this.openWebSocket(request) : this.openPolling(request);
      this.stats.count("connectionsOpened");
      // The first ping: a WebSocket's is grouped with its tick's, a polling session's is its own.
      await this.setAlarm(parsed.transport === "websocket" ? firstPingAt(now, this.options) : now + this.options.pingInterval);
      return response;
    }
    const session = this.sessions.get(parsed.sid) ?? this.dormantSession(parsed.sid);
    if (parsed.transport === "websocket") {
      // Refused upgrades are accepted then closed: a WebSocket client reports a close, not an HTTP error.
      if (session === undefined || session.closed) return refuseWebSocket(EngineError.UNKNOWN_SID);
      if (session.transport !== "polling" || session.upgradingSocket !== null) {
        return refuseWebSocket(EngineError.BAD_REQUEST);
      }
      return this.upgrade(session);
    }
    if (session === undefined || session.closed) {
      // The GET a client sent just before its close packet, overtaken by that POST on the way here.
      if (request.method === "GET" && this.takeClientClose(parsed.sid)) return textResponse(NOOP);
      if (request.method === "GET" && this.#closedForOutbox.delete(parsed.sid)) return textResponse(CLOSE);
      return engineError(EngineError.UNKNOWN_SID);
    }
    if (session.transport !== "polling") return engineError(EngineError.BAD_REQUEST);
    if (session.pongDeadline > 0 && Date.now() >= session.pongDeadline) {
      // Its deadline passed before the alarm came round to it.
      this.closeSession(session, "ping timeout");
      return engineError(EngineError.UNKNOWN_SID);
    }
    return request.method === "GET" ? this.poll(session, request.signal) : this.receivePollingData(session, request);
  }

  // Synchronous on purpose (nothing here awaits): an async handler costs the runtime a promise per
  // message, measurably fewer relayed messages per second (BENCHMARKS.md, "History").
  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    this.stats.webSocketMessage();
    this.indexDormant();
    const session = this.sessionOf(ws);
    if (session === undefined || session.closed) {
      ws.close(1008, "Session ID unknown");
      return;
    }
    // Probes of an upgrade count too: "2probe" is answered, so a flood of them costs as much.
    if (!session.packets!.take(Date.now())) return this.closeSession(session, "rate limited");
    if (ws === session.upgradingSocket) return this.continueUpgrade(session, ws, message);
    if (exceeds(message, this.options.maxHttpBufferSize)) return this.closeSession(session, "message too big");
    const packet = decodeClientPacket(message);
    if (packet === null) return this.closeSession(session, "parse error");
    this.handlePacket(session, packet);
  }

  override async webSocketClose(ws: WebSocket, _code: number, _reason: string, _wasClean: boolean): Promise<void> {
    this.indexDormant();
    this.forgetSocket(ws, "transport close");
  }

  override async webSocketError(ws: WebSocket, _error: unknown): Promise<void> {
    this.indexDormant();
    this.forgetSocket(ws, "transport error");
  }

  override async alarm(): Promise<void> {
    this.stats.count("alarms");
    this.#alarmAt = null;
    const now = Date.now();
    // An idle room's round pings and judges its WebSockets without rebuilding their sessions.
    const closing: [WebSocket, CloseReason][] = [];
    const webSockets = await this.pingWebSockets(now, closing);
    let next = webSockets.next;

    // Polling sessions (in memory only: a polling client keeps the object awake), each on its own schedule.
    const { pingInterval, pingTimeout } = this.options;
    const timedOut: EngineSession<S>[] = [];
    for (const session of this.sessions.values()) {
      if (session.webSocket !== null) continue;
      if (session.pongDeadline > 0 && now >= session.pongDeadline) {
        timedOut.push(session);
        continue;
      }
      // The deadline runs from when the ping was due: a late alarm does not give the client more time.
      if (now >= session.nextPingAt) session.ping(Math.max(session.nextPingAt, now - tickLength(this.options)), pingInterval, pingTimeout);
      next = Math.min(next, session.pongDeadline || Infinity, session.nextPingAt);
    }

    const upper = this.onEngineTick(now, webSockets.sockets);
    if (upper !== null) next = Math.min(next, upper);
    if (next !== Infinity) await this.setAlarm(next);
    for (const session of timedOut) this.closeSession(session, "ping timeout");
    if (closing.length > 0) {
      // Closing runs the layer above's disconnect handlers, which may broadcast (dormant sockets are reached too).
      this.indexDormant();
      for (const [ws, reason] of closing) {
        const session = this.sessionOf(ws);
        if (session !== undefined && session.webSocket === ws) this.closeSession(session, reason);
      }
    }
    await this.stats.save();
  }

  /**
   * Sends the WebSocket pings that are due: a whole round once per interval, and
   * in between the first pings of newcomers. Reads per socket only its tags and
   * its auto-response time; its attachment only when that time is too old.
   * Returns when the next ping is due and the WebSockets it looked at, with their handshake times.
   */
  private async pingWebSockets(now: number, closing: [WebSocket, CloseReason][]): Promise<{ next: number; sockets: HeartbeatSocket[] }> {
    const timing = this.options;
    const sockets = this.heartbeatSockets();
    if (sockets.length === 0) return { next: Infinity, sockets };
    const state = await this.heartbeat();
    const round = roundDue(state, now, timing);
    const settles = firstPingSettles(timing);
    // Pongs are judged at rounds, against the newest round whose deadline has passed, for the sockets
    // that round surely pinged.
    const judged = round ? judgedRound(state, now, timing) : undefined;
    let next = Infinity;
    let pinged = 0;
    const judging: WebSocket[] = [];
    for (let i = 0; i < sockets.length; i++) {
      // A big room's round is sent in slices: messages that arrive meanwhile are relayed between them.
      if (i > 0 && i % PING_SLICE === 0) await yieldToEvents();
      const { ws, createdAt } = sockets[i];
      const first = firstPingAt(createdAt, timing);
      if (first > now) {
        next = Math.min(next, first);
        continue;
      }
      if (judged !== undefined && first <= judged - settles) judging.push(ws);
      // Between rounds only first pings that fell due since the last alarm go out; a round leaves out
      // the sockets that have just had theirs.
      const hadFirstPing = first <= state.firstPingsUpTo;
      if (round ? hadFirstPing && first > now - settles : hadFirstPing) continue;
      if (!sendFrame(ws, PING)) closing.push([ws, "transport error"]);
      pinged++;
    }
    // Pongs are judged once the pings are out, so the round reaches every client sooner (a silent
    // socket's ping is wasted, and it is closed right after).
    for (let i = 0; i < judging.length; i++) {
      if (i > 0 && i % PING_SLICE === 0) await yieldToEvents();
      if (this.lastPong(judging[i], judged!) < judged!) closing.push([judging[i], "ping timeout"]);
    }
    if (round) this.#heartbeat = afterRound(state, now, timing);
    else state.firstPingsUpTo = now;
    if (round || pinged > 0) await this.ctx.storage.put(HEARTBEAT_KEY, this.#heartbeat, UNCONFIRMED);
    return { next: Math.min(next, this.#heartbeat!.nextPingAt), sockets };
  }

  /** The open WebSocket sessions (not those still probing an upgrade), with their handshake times. */
  private heartbeatSockets(): HeartbeatSocket[] {
    const sockets: HeartbeatSocket[] = [];
    if (!this.options.hibernation) {
      for (const session of this.sessions.values()) {
        if (session.webSocket !== null) sockets.push({ ws: session.webSocket, createdAt: session.createdAt });
      }
      return sockets;
    }
    for (const ws of this.ctx.getWebSockets()) {
      const tags = this.ctx.getTags(ws);
      if (tags.includes(UPGRADE_TAG) && this.isUpgrading(ws)) continue;
      sockets.push({ ws, createdAt: createdAtOf(tags) });
    }
    return sockets;
  }

  /** Whether a WebSocket accepted for an upgrade has not completed it. */
  private isUpgrading(ws: WebSocket): boolean {
    const session = this.#sessionsBySocket.get(ws);
    if (session !== undefined) return session.upgradingSocket === ws;
    // Unknown once this wake's WebSockets were looked at: an interrupted upgrade (closed then), or closed since.
    if (this.#dormant !== null) return !this.#dormant.has(ws);
    const stored = ws.deserializeAttachment();
    return !isStoredAttachment(stored) || isUpgradeAttachment(stored);
  }

  /** When a socket last answered, as far as it matters for a round at `judged`. */
  private lastPong(ws: WebSocket, judged: number): number {
    const auto = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    if (auto >= judged) return auto;
    // A pong JavaScript saw, or the completion of an upgrade: from memory, or from the attachment.
    const session = this.#sessionsBySocket.get(ws);
    if (session !== undefined) return Math.max(auto, session.lastPongAt);
    const attachment = this.readDormant(ws);
    return Math.max(auto, attachment?.lastPongAt ?? attachment?.createdAt ?? 0);
  }

  /** When the room last pinged its WebSockets, and when it pings them next (survives hibernation). */
  private async heartbeat(): Promise<HeartbeatState> {
    this.#heartbeat ??= { ...emptyHeartbeat(), ...(await this.ctx.storage.get<HeartbeatState>(HEARTBEAT_KEY)) };
    return this.#heartbeat;
  }

  // --- handshake ----------------------------------------------------------

  private openWebSocket(request: Request): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    const session = new EngineSession<S>(newSessionId(this.ctx.id), Date.now(), "websocket", this.initialState(request));
    this.acceptWebSocket(server, session.createdAt, false);
    session.webSocket = server;
    this.register(session);
    session.write(server, openPacket(session.sid, "websocket", this.handshakeOptions()));
    session.persist();
    this.onEngineOpen(session);
    return new Response(null, { status: 101, webSocket: client });
  }

  private openPolling(request: Request): Response {
    const now = Date.now();
    const session = new EngineSession<S>(newSessionId(this.ctx.id), now, "polling", this.initialState(request));
    session.nextPingAt = now + this.options.pingInterval;
    this.register(session);
    const body = openPacket(session.sid, "polling", this.handshakeOptions());
    this.onEngineOpen(session);
    return textResponse(body);
  }

  private handshakeOptions() {
    const { pingInterval, pingTimeout, maxHttpBufferSize } = this.options;
    return { pingInterval, pingTimeout, maxPayload: maxHttpBufferSize };
  }

  // --- polling ------------------------------------------------------------

  private async poll(session: EngineSession<S>, signal: AbortSignal): Promise<Response> {
    // A GET after "3probe" may be one sent after the "5" that overtook it on the way here, but
    // not from a client that has polled before: a standard client polls from its handshake on,
    // pauses on "3probe" once its current GET ends, and never polls after "5". Its GET is answered.
    const held = session.probeSent && session.polls === 0 && !session.pollHeld;
    if (held) {
      session.pollHeld = true;
      await session.waitForUpgrade(UPGRADE_POLL_HOLD_MS);
      session.pollHeld = false;
      if (session.closed) return engineError(EngineError.UNKNOWN_SID);
      // The upgrade completed meanwhile: this GET is one after it.
      if (session.transport !== "polling") return engineError(EngineError.BAD_REQUEST);
    }
    if (session.hasPendingPoll || session.pollHeld) {
      // Two GETs at once: the spec closes the session.
      this.closeSession(session, "transport error");
      return engineError(EngineError.BAD_REQUEST);
    }
    const aborted = () => this.closeSession(session, "transport close");
    const body = session.openPoll(aborted);
    // A client that goes away mid-poll closes its session (where the runtime reports the abort: not
    // through wrangler dev's local proxy, where the next GET finds the first one pending instead).
    const poll = session.polls;
    if (typeof body !== "string") {
      signal.addEventListener("abort", () => session.polls === poll && session.hasPendingPoll && aborted(), { once: true });
    }
    // Held until the upgrade gave up waiting for a "5" (the client may be one pausing for this GET).
    if (held && typeof body !== "string") session.endPoll(NOOP);
    return textResponse(body);
  }

  private async receivePollingData(session: EngineSession<S>, request: Request): Promise<Response> {
    if (session.postInFlight) {
      this.closeSession(session, "transport error");
      return engineError(EngineError.BAD_REQUEST);
    }
    session.postInFlight = true;
    let bytes: Uint8Array | null;
    try {
      bytes = await readAtMost(request, this.options.maxHttpBufferSize);
    } finally {
      session.postInFlight = false;
    }
    if (bytes === null) {
      this.closeSession(session, "message too big");
      return tooLarge();
    }
    const packets = decodePollingPayload(UTF8.decode(bytes));
    if (packets === null) {
      this.closeSession(session, "parse error");
      return engineError(EngineError.BAD_REQUEST);
    }
    // A payload over the rate is refused whole: none of its packets is handled.
    if (!session.packets!.take(Date.now(), packets.length)) {
      this.closeSession(session, "rate limited");
      return Response.json({ code: EngineError.BAD_REQUEST.code, message: "Too many packets" }, { status: 429 });
    }
    for (const packet of packets) {
      if (session.closed) break;
      this.handlePacket(session, packet);
    }
    return new Response("ok", { headers: { "Content-Type": "text/html" } });
  }

  // --- upgrade ------------------------------------------------------------

  private upgrade(session: EngineSession<S>): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.acceptWebSocket(server, session.createdAt, true);
    const attachment: SessionAttachment<S> = { sid: session.sid, createdAt: session.createdAt, upgrading: true, state: session.state };
    server.serializeAttachment(encodeAttachment(attachment, ""));
    session.upgradingSocket = server;
    this.#sessionsBySocket.set(server, session);
    return new Response(null, { status: 101, webSocket: client });
  }

  private continueUpgrade(session: EngineSession<S>, ws: WebSocket, message: string | ArrayBuffer): void {
    if (message === "2probe") {
      session.write(ws, "3probe");
      session.probeAnswered(() => this.giveUpUpgrade(session, ws, 1000, "upgrade timeout"));
    } else if (message === "5") {
      try {
        session.completeUpgrade(ws);
        this.stats.count("upgrades");
        this.onEngineUpgrade(session);
      } catch (error) {
        console.error("Engine.IO upgrade failed:", error);
        this.closeSession(session, "transport error");
      }
    } else {
      // Anything else during an upgrade aborts it.
      this.giveUpUpgrade(session, ws, 1002, "invalid upgrade packet");
    }
  }

  /** Closes the probing WebSocket; the polling session goes on. */
  private giveUpUpgrade(session: EngineSession<S>, ws: WebSocket, code: number, reason: string): void {
    session.abandonUpgrade();
    this.#sessionsBySocket.delete(ws);
    try {
      ws.close(code, reason);
    } catch {
      // Already closed by the client.
    }
  }

  // --- packets ------------------------------------------------------------

  private handlePacket(session: EngineSession<S>, packet: Packet): void {
    switch (packet.type) {
      case "message":
        this.stats.received(packet.data as string | ArrayBuffer);
        this.onEngineMessage(session, packet.data as string | ArrayBuffer);
        return;
      case "pong":
        this.stats.count("pongsInJs");
        session.lastPongAt = Date.now();
        session.pongDeadline = 0;
        // Without the runtime's auto-response, the pong time must survive eviction itself.
        if (session.webSocket !== null) session.persist();
        return;
      case "close":
        this.closeSession(session, "client close", true);
        return;
      case "noop":
      case "ping":
        return;
      default:
        // "open", "upgrade" outside an upgrade: not something a client sends.
        this.closeSession(session, "parse error");
    }
  }

  // --- lifecycle ----------------------------------------------------------

  /** Closes one connection; the room and every other connection go on. */
  protected closeSession(session: EngineSession<S>, reason: CloseReason, byClient = false): void {
    if (session.closed) return;
    if (byClient && session.transport === "polling" && !session.hasPendingPoll) this.rememberClientClose(session.sid);
    session.close(reason, byClient);
    this.stats.count("connectionsClosed");
    const error = CLOSE_ERRORS[reason];
    if (error) this.stats.count(error);
    this.sessions.delete(session.sid);
    if (session.webSocket) this.#sessionsBySocket.delete(session.webSocket);
    if (session.upgradingSocket) this.#sessionsBySocket.delete(session.upgradingSocket);
    this.onEngineClose(session, reason);
  }

  /**
   * A polling client closed its session while no GET was waiting: the GET it had
   * sent before its close packet may still be on the way (through a proxy hop a
   * request can overtake another). That one GET, within UPGRADE_POLL_HOLD_MS,
   * gets the noop it would have got; any other gets "Session ID unknown".
   */
  private rememberClientClose(sid: string): void {
    const now = Date.now();
    for (const [old, at] of this.#closedByClient) if (now - at > UPGRADE_POLL_HOLD_MS) this.#closedByClient.delete(old);
    this.#closedByClient.set(sid, now);
  }

  private takeClientClose(sid: string): boolean {
    const at = this.#closedByClient.get(sid);
    this.#closedByClient.delete(sid);
    return at !== undefined && Date.now() - at <= UPGRADE_POLL_HOLD_MS;
  }

  private forgetSocket(ws: WebSocket, reason: CloseReason): void {
    const session = this.sessionOf(ws);
    if (session === undefined) return;
    if (ws === session.upgradingSocket) {
      session.abandonUpgrade();
      this.#sessionsBySocket.delete(ws);
      return;
    }
    this.closeSession(session, reason);
  }

  /**
   * Hibernatable by default. Without hibernation (HIBERNATION=off) the socket's
   * events are wired to the same handlers; the object then stays in memory while
   * it is open, but a server-side close reaches even a client that never sent a
   * frame at once (a hibernatable one that never sent anything is only released
   * when the object hibernates, about 10 s later).
   */
  private acceptWebSocket(ws: WebSocket, createdAt: number, upgrade: boolean): void {
    if (this.options.hibernation) {
      const created = CREATED_TAG + createdAt;
      this.ctx.acceptWebSocket(ws, upgrade ? [created, UPGRADE_TAG] : [created]);
      return;
    }
    ws.binaryType = "arraybuffer";
    ws.accept();
    ws.addEventListener("message", (event) => void this.webSocketMessage(ws, event.data as string | ArrayBuffer));
    ws.addEventListener("close", (event) => void this.webSocketClose(ws, event.code, event.reason, event.wasClean));
    ws.addEventListener("error", (event) => void this.webSocketError(ws, event.error));
  }

  private register(session: EngineSession<S>): void {
    session.stats = this.stats;
    session.summarize = this.#summarize;
    session.onTransportError = this.#transportError;
    session.packets = new PacketBucket(this.options.packetRate, Date.now());
    session.maxOutboxBytes = outboxLimit(this.options.maxHttpBufferSize);
    session.onOutboxFull = () => {
      // As engine.io closes a polling session between two GETs: the next GET gets the close packet. Kept
      // until the session would have timed out anyway.
      const now = Date.now();
      const keep = this.options.pingInterval + this.options.pingTimeout;
      for (const [sid, at] of this.#closedForOutbox) if (now - at > keep) this.#closedForOutbox.delete(sid);
      this.#closedForOutbox.set(session.sid, now);
      this.closeSession(session, "outbox full");
    };
    this.sessions.set(session.sid, session);
    if (session.webSocket) this.#sessionsBySocket.set(session.webSocket, session);
  }

  /** Whether every session is in memory (after restoreSessions(), or always without hibernation). */
  protected get sessionsInMemory(): boolean {
    return !this.options.hibernation || (this.#dormant !== null && this.#dormant.size === 0);
  }

  /**
   * Once per wake, before anything else touches the room's WebSockets: reads the
   * attachments of those an earlier instance accepted, closes interrupted
   * upgrades and hands the others to onEngineDormant. No session is rebuilt:
   * sessionOf() does that for one WebSocket, restoreSessions() for all.
   */
  protected indexDormant(): void {
    if (this.#dormant !== null) return;
    const dormant = (this.#dormant = new Map());
    if (!this.options.hibernation) return;
    for (const ws of this.ctx.getWebSockets()) {
      if (this.#sessionsBySocket.has(ws)) continue;
      const stored = ws.deserializeAttachment();
      if (!isStoredAttachment(stored) || isUpgradeAttachment(stored)) {
        // An upgrade whose polling session did not survive eviction.
        ws.close(1001, "upgrade interrupted");
        continue;
      }
      dormant.set(ws, stored);
      this.onEngineDormant(ws, attachmentSummary(stored));
    }
  }

  /**
   * The state a WebSocket's session had when an earlier instance last saved it,
   * read without rebuilding the session; undefined once the session is in
   * memory (read it there) or for an upgrade still probing.
   */
  protected dormantState(ws: WebSocket): S | undefined {
    if (this.#sessionsBySocket.has(ws)) return undefined;
    const attachment = this.readDormant(ws);
    return attachment === null || attachment.upgrading ? undefined : attachment.state;
  }

  /** A WebSocket's attachment as an earlier instance left it, parsed (null: none, or not one of ours). */
  private readDormant(ws: WebSocket): SessionAttachment<S> | null {
    const stored = this.#dormant?.get(ws) ?? ws.deserializeAttachment();
    return isStoredAttachment(stored) ? decodeAttachment<S>(stored) : null;
  }

  /** The session a WebSocket carries, rebuilt from its attachment if it is still dormant. */
  protected sessionOf(ws: WebSocket): EngineSession<S> | undefined {
    return this.#sessionsBySocket.get(ws) ?? this.rebuildSession(ws);
  }

  /** Rebuilds every dormant WebSocket session (for what needs the whole room in memory). */
  protected restoreSessions(): void {
    this.indexDormant();
    if (this.#dormant!.size === 0) return;
    for (const ws of [...this.#dormant!.keys()]) this.rebuildSession(ws);
  }

  private rebuildSession(ws: WebSocket): EngineSession<S> | undefined {
    const stored = this.#dormant?.get(ws);
    if (stored === undefined) return undefined;
    this.#dormant!.delete(ws);
    const attachment = decodeAttachment<S>(stored);
    const session = new EngineSession<S>(attachment.sid, attachment.createdAt, "websocket", attachment.state);
    session.webSocket = ws;
    session.lastPongAt = attachment.lastPongAt ?? attachment.createdAt;
    this.register(session);
    this.onEngineRestore(session);
    return session;
  }

  /** A dormant WebSocket session named by a request's sid (rare: a sid of a WebSocket session over polling). */
  private dormantSession(sid: string): EngineSession<S> | undefined {
    if (this.#dormant === null || this.#dormant.size === 0) return undefined;
    for (const [ws, stored] of this.#dormant) if (isAttachmentOf(stored, sid)) return this.rebuildSession(ws);
    return undefined;
  }

  /** Asks for an alarm no later than `at`. */
  protected async setAlarm(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at, UNCONFIRMED);
  }

  /** Encodes text/binary parts as one Engine.IO message, once for any number of recipients. */
  protected encodeMessage(parts: readonly (string | ArrayBuffer | ArrayBufferView)[]): EncodedMessage {
    return new EncodedMessage(parts);
  }
}

/** Whether a message is larger than `max` bytes. */
function exceeds(message: string | ArrayBuffer, max: number): boolean {
  if (typeof message !== "string") return message.byteLength > max;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only encode when it could matter.
  if (message.length * 3 <= max) return false;
  return message.length > max || TEXT.encode(message).byteLength > max;
}

/** The handshake time in a WebSocket's tags (0 for one accepted before they were written: pinged at once). */
function createdAtOf(tags: readonly string[]): number {
  const tag = tags.find((t) => t.startsWith(CREATED_TAG));
  return tag === undefined ? 0 : Number(tag.slice(CREATED_TAG.length));
}

/** Sends one frame; false when the socket can no longer send. */
function sendFrame(ws: WebSocket, frame: string): boolean {
  try {
    ws.send(frame);
    return true;
  } catch {
    return false;
  }
}

/** Lets the runtime deliver waiting events (WebSocket messages, requests) before going on. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function textResponse(body: string | ReadableStream<Uint8Array>): Response {
  return new Response(body, { headers: { "Content-Type": "text/plain; charset=UTF-8", "Cache-Control": "no-store" } });
}

function engineError(error: EngineErrorBody, status = 400): Response {
  return Response.json(error, { status });
}

function refuseWebSocket(error: EngineErrorBody): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(1008, error.message);
  return new Response(null, { status: 101, webSocket: client });
}

function tooLarge(): Response {
  return Response.json({ code: 3, message: "Payload too large" }, { status: 413 });
}
