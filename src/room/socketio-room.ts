import type { Decoder } from "socket.io-parser";
import type { Env } from "../config";
import { EncodedMessage } from "../engine.io/frames";
import type { CloseReason, EngineSession } from "../engine.io/session";
import { Server, type RemoteRoom, type ServerSettings } from "../server/server";
import { Socket } from "../server/socket";
import type { Connection, ConnectionState, DisconnectReason, SocketRecord } from "../server/types";
import type { DormantSocket, MemberConnection } from "../server/namespace";
import type { DefaultEventsMap, EventsMap } from "../server/typed-events";
import { ConnectError } from "../server/handlers";
import { recordRequest } from "../server/handshake";
import {
  binaryAsBuffers,
  connectErrorPacket,
  connectPacket,
  createDecoder,
  encode,
  invalidClientPacket,
  PacketType,
  type Packet,
} from "../socket.io/protocol";
import type { EmitCommand, EmitOutcome, RoomInfo, RoomStatsReport, SocketDescription, SocketSelector } from "../rest/commands";
import { IdempotencyLog } from "../rest/idempotency";
import * as rest from "../rest/room-operations";
import { packetShapeRefusal } from "../socket.io/packet-limits";
import { EngineRoom, type HeartbeatSocket } from "./engine-room";
import { SqlRecoveryStore } from "../recovery/sql-store";
import type { RestoredSession } from "../server/recovery";
import { newSocketId, ROOM_HEADER, SHARD_HEADER } from "./ids";
import { ShardAdapter } from "../shard/adapter";
import type { ShardCall } from "../shard/calls";
import { shardSocketId } from "../shard/names";
import { remoteRoom } from "./remote-room";
import { logRoomEvent } from "./room-log";
import { CLOSE_ERRORS } from "./room-stats";
import { AuthError, authorizeConnect, readAuthConfig, tokenFromAuth, type AuthConfig } from "../auth";
import {
  ackValue,
  connectWebhook,
  disconnectWebhook,
  eventWebhook,
  WebhookClient,
  type WebhookSocket,
} from "../webhooks";

/** Longer namespace names are refused: each one costs memory and attachment space. */
const MAX_NAMESPACE_LENGTH = 256;

const DISCONNECT_REASONS: Record<CloseReason, DisconnectReason> = {
  "transport close": "transport close",
  "transport error": "transport error",
  "client close": "transport close",
  "ping timeout": "ping timeout",
  "parse error": "parse error",
  "message too big": "transport error",
  "rate limited": "forced close",
  "outbox full": "transport error",
  "server close": "forced close",
};

/** An Engine.IO session seen from Socket.IO: its packet decoder and its sockets. */
class SessionConnection implements Connection {
  readonly sockets = new Map<string, Socket<any, any, any>>();
  /** Namespaces whose CONNECT is going through middlewares (made on the first CONNECT). */
  connecting: Set<string> | null = null;
  /** The decoder is taking a binary attachment: a packet it completes now carries binary (it reports it as plain EVENT/ACK). */
  decodingBinary = false;
  /** Bytes of the binary attachments received for the packet being decoded (bounded by maxHttpBufferSize). */
  pendingBinaryBytes = 0;
  /** Restored after a wake with sockets whose listeners were registered outside onSocket (see onEngineRestore). */
  listenersLost = false;
  /** Created on the connection's first message after a start or a wake: most idle connections never need one. */
  #decoder: Decoder | null = null;

  /** The room's handlers, shared by its connections (nothing allocated per connection for them). */
  constructor(
    readonly session: EngineSession<ConnectionState>,
    private readonly room: {
      closeConnection(session: EngineSession<ConnectionState>): void;
      onPacket(connection: SessionConnection, packet: Packet): void;
      /** Every disconnect of one of its sockets, whatever the reason (the room counts and logs it). */
      onDetach(socket: Socket<any, any, any>, reason: DisconnectReason): void;
    },
  ) {}

  get decoder(): Decoder {
    if (this.#decoder === null) {
      this.#decoder = createDecoder();
      this.#decoder.on("decoded", (packet: Packet) => this.room.onPacket(this, packet));
    }
    return this.#decoder;
  }

  /** Drops a half-received binary packet, if any. */
  destroyDecoder(): void {
    this.#decoder?.destroy();
    this.#decoder = null;
  }

  get sid(): string {
    return this.session.sid;
  }

  get state(): ConnectionState {
    return this.session.state;
  }

  send(message: EncodedMessage): void {
    this.session.send(message);
  }

  get writable(): boolean {
    return !this.session.closed && (this.session.webSocket !== null || this.session.hasPendingPoll);
  }

  persist(): void {
    this.session.persist();
  }

  close(): void {
    this.room.closeConnection(this.session);
  }

  detach(socket: Socket<any, any, any>, reason: DisconnectReason): void {
    if (this.sockets.get(socket.nsp.name) === socket) this.sockets.delete(socket.nsp.name);
    this.room.onDetach(socket, reason);
  }
}

/** A connection's namespaces as a wake reads them: [namespace, socket id, ...joined rooms] each. */
type DormantSummary = [name: string, id: string, ...rooms: string[]][];

/** What a dormant socket needs of its room. */
interface DormantHost {
  /** Counts a message sent (the room's stats). */
  sent(bytes: number): void;
  /** Rebuilds the WebSocket's session, and with it its sockets. */
  wake(ws: WebSocket): void;
  /** The WebSocket can no longer send: its connection is closed (later, never inside a broadcast). */
  failed(ws: WebSocket): void;
}

/**
 * A socket of a WebSocket connection not rebuilt since the object woke: all a
 * broadcast needs (its id, rooms and WebSocket), nothing else. One object per
 * connection and namespace, read from the attachment's summary once per wake.
 */
class AttachedSocket implements DormantSocket, MemberConnection {
  readonly dormant = true;

  constructor(
    readonly id: string,
    readonly rooms: readonly string[],
    private readonly ws: WebSocket,
    private readonly host: DormantHost,
  ) {}

  get connection(): MemberConnection {
    return this;
  }

  /** A WebSocket is writable until it is closed, and then it is no longer indexed. */
  get writable(): boolean {
    return true;
  }

  send(message: EncodedMessage): void {
    this.host.sent(message.byteLength);
    const frames = message.webSocketFrames;
    try {
      for (let i = 0; i < frames.length; i++) this.ws.send(frames[i]);
    } catch {
      this.host.failed(this.ws);
    }
  }

  wake(): void {
    this.host.wake(this.ws);
  }
}

/**
 * A Socket.IO v5 server for the clients of one room. Subclasses declare their
 * namespaces and handlers in `setup(io)`, which runs each time the object is
 * constructed, including after hibernation.
 */
export abstract class SocketIORoom<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends EngineRoom<ConnectionState> {
  protected readonly io: Server<ListenEvents, EmitEvents, SocketData>;
  readonly #connections = new Map<string, SessionConnection>();
  readonly #connectionHandlers = {
    closeConnection: (session: EngineSession<ConnectionState>) => this.closeSession(session, "server close"),
    onPacket: (connection: SessionConnection, packet: Packet) => this.onPacket(connection, packet),
    onDetach: (socket: Socket<any, any, any>, reason: DisconnectReason) => this.socketDisconnected(socket, reason),
  };
  readonly #dormantHost: DormantHost = {
    sent: (bytes) => this.stats.sent(bytes),
    wake: (ws) => void this.sessionOf(ws),
    failed: (ws) =>
      queueMicrotask(() => {
        const session = this.sessionOf(ws);
        if (session !== undefined) this.closeSession(session, "transport error");
      }),
  };
  /** This object's room name, learnt from the Worker's routing header (kept in every connection's state). */
  protected roomName = "";
  /** Whether this instance has read its room and shard from a dormant connection's state (once per wake). */
  #knowsItself = false;
  /** JWT verification of CONNECT (JWT_* vars), or null when off. */
  readonly #jwt: AuthConfig | null;
  /** Webhooks upstream (WEBHOOK_* vars), or null when off. */
  readonly #webhooks: WebhookClient | null;
  /** Connection state recovery (settings in code, CONNECTION_STATE_RECOVERY_MS overrides), or null when off. */
  readonly #recovery: SqlRecoveryStore | null;
  /** This object's part in a sharded room (src/shard); idle unless the object is one of a sharded room's. */
  readonly #shard: ShardAdapter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#jwt = readAuthConfig(env);
    this.#webhooks = WebhookClient.fromEnv(env, undefined, { waitUntil: (promise) => ctx.waitUntil(promise) });
    // strictListeners as resolved with its var (STRICT_LISTENERS).
    const settings = { ...this.settings, strictListeners: this.options.strictListeners };
    const recovery = this.options.connectionStateRecovery;
    this.#recovery = recovery === null ? null : new SqlRecoveryStore(ctx.storage.sql, recovery);
    // A new instance: sockets of the last one that no WebSocket carried over (polling ones, or all after
    // a restart) are gone without a disconnect; their clients' reconnects recover them.
    this.#recovery?.reconcile(ctx.getWebSockets().length > 0);
    this.io = new Server<ListenEvents, EmitEvents, SocketData>(
      settings,
      (room) => remoteRoom(this.env, room),
      this.#recovery,
    );
    this.#shard = new ShardAdapter({
      rooms: env.ROOMS,
      kv: ctx.storage.kv,
      io: this.io as unknown as Server,
      restoreSessions: () => this.restoreSessions(),
      connections: () => (this.restoreSessions(), this.sessions.size),
      idempotencyLog: () => (this.#idempotencyLog ??= new IdempotencyLog(this.ctx.storage.sql)),
      info: () => this.restInfo(),
      stats: () => this.restStats(),
    });
    this.setup(this.io);
  }

  /**
   * Declares namespaces, middlewares and handlers. Runs each time the object is
   * constructed (again after every wake): register here, act in handlers.
   */
  protected abstract setup(io: Server<ListenEvents, EmitEvents, SocketData>): void;

  /**
   * Decides whether a socket may connect, before any middleware of `setup`:
   * throw a ConnectError (or any Error) to refuse it with that message. By
   * default, verifies the JWT in the CONNECT auth payload (`auth.token`) when
   * JWT_SECRET or JWT_JWKS_URL is set, with the claims that limit rooms and
   * namespaces. Override for custom auth (call `super.authorize` to keep JWT).
   */
  protected async authorize(socket: Socket<ListenEvents, EmitEvents, SocketData>): Promise<void> {
    if (this.#jwt === null) return;
    const auth = socket.handshake.auth;
    try {
      const { claims } = await authorizeConnect(
        { token: tokenFromAuth(auth), room: this.roomName, namespace: socket.nsp.name },
        this.#jwt,
      );
      // The verified claims stay with the socket; the token itself is not kept in the attachment.
      const { token: _token, ...rest } = auth;
      socket.setVerifiedAuth(rest, claims ?? undefined);
    } catch (error) {
      if (error instanceof AuthError) throw new ConnectError(error.message, { code: error.code });
      throw error;
    }
  }

  /**
   * Server options in code, as socket.io's `new Server(options)` (pingInterval,
   * pingTimeout, maxHttpBufferSize, connectTimeout, cors, connectionStateRecovery,
   * allowRequest) plus `dynamicNamespaces` and `strictListeners`. A var that is
   * set overrides the same option (docs/server-api.md, "Options").
   */
  protected override serverSettings(): ServerSettings {
    return {};
  }

  // --- Engine.IO hooks -----------------------------------------------------

  protected override initialState(request: Request): ConnectionState {
    const room = request.headers.get(ROOM_HEADER);
    if (room) this.roomName = room;
    const shard = request.headers.get(SHARD_HEADER);
    if (shard !== null && room) {
      this.#shard.identify(room, Number(shard));
      return { room: this.roomName, shard: Number(shard), ...recordRequest(request), sockets: {} };
    }
    return { room: this.roomName, ...recordRequest(request), sockets: {} };
  }

  protected override onEngineOpen(session: EngineSession<ConnectionState>): void {
    this.attachConnection(session);
    void this.setAlarm(session.createdAt + this.options.connectTimeout);
  }

  protected override onEngineRestore(session: EngineSession<ConnectionState>): void {
    const connection = this.attachConnection(session);
    this.roomName ||= session.state.room;
    if (session.state.shard !== undefined) this.#shard.identify(session.state.room, session.state.shard);
    this.#shard.restoring(() => this.restoreSockets(session, connection));
    if (connection.listenersLost && !reportedLostListeners) {
      reportedLostListeners = true;
      console.error(
        `Socket.IO connection ${session.sid} (and any other like it, logged once): listeners registered outside ` +
          `io.onSocket() were lost when the room hibernated; such a connection is closed on its next packet so that ` +
          `its client reconnects and "connection" runs again. Register listeners in io.onSocket().`,
      );
    }
  }

  private restoreSockets(session: EngineSession<ConnectionState>, connection: SessionConnection): void {
    for (const [name, record] of Object.entries(session.state.sockets)) {
      const nsp = this.io.lookup(name);
      if (nsp === null) continue;
      // Listeners come back lazily (onSocket) on the socket's next event; no connection handler runs.
      const socket = new Socket(nsp, connection, record);
      connection.sockets.set(name, socket);
      nsp.addSocket(socket);
      if (record.unrebuiltListeners) connection.listenersLost = true;
    }
  }

  /** Indexes the sockets of a WebSocket of an earlier instance, so that broadcasts reach them without a rebuild. */
  /** A polling connection's sockets now survive an eviction with its WebSocket. */
  protected override onEngineUpgrade(session: EngineSession<ConnectionState>): void {
    if (this.#recovery === null) return;
    for (const socket of this.#connections.get(session.sid)?.sockets.values() ?? []) {
      if (socket.pid !== undefined) this.#recovery.liveOverWebSocket(socket.pid);
    }
  }

  /** What a wake reads of each connection: for each namespace, its name, socket id and joined rooms. */
  protected override dormantSummary(state: ConnectionState): string {
    const summary: DormantSummary = [];
    for (const [name, { id, rooms }] of Object.entries(state.sockets)) summary.push([name, id, ...rooms]);
    return JSON.stringify(summary);
  }

  protected override onEngineDormant(ws: WebSocket, summary: string): void {
    if (!this.#knowsItself) {
      // The room and shard are every connection's: the first dormant one's whole state tells them.
      this.#knowsItself = true;
      const state = this.dormantState(ws);
      if (state !== undefined) {
        this.roomName ||= state.room;
        if (state.shard !== undefined) this.#shard.identify(state.room, state.shard);
      }
    }
    if (summary === "" || summary === "[]") return; // no namespace joined (yet)
    const sockets = JSON.parse(summary) as DormantSummary;
    // The directory already knows this shard's members: indexing them again tells it nothing.
    this.#shard.restoring(() => {
      for (const [name, id, ...rooms] of sockets) {
        const nsp = this.io.lookup(name);
        if (nsp !== null) nsp.addDormant(new AttachedSocket(id, rooms, ws, this.#dormantHost));
      }
    });
  }

  protected override onEngineMessage(session: EngineSession<ConnectionState>, data: string | ArrayBuffer): void {
    const connection = this.#connections.get(session.sid);
    if (connection === undefined) return;
    if (connection.listenersLost) {
      // Its listeners cannot be rebuilt: a reconnect runs its "connection" handlers again, as a socket.io restart would.
      this.closeSession(session, "server close");
      return;
    }
    // Nesting and argument counts are bounded before socket.io-parser spends time or memory on them.
    if (typeof data === "string") {
      if (packetShapeRefusal(data) !== null) return this.closeSession(session, "parse error");
    } else if ((connection.pendingBinaryBytes += data.byteLength) > this.options.maxHttpBufferSize) {
      // A packet's attachments together are one message: maxHttpBufferSize bounds them as it bounds a message.
      return this.closeSession(session, "message too big");
    }
    try {
      connection.decodingBinary = typeof data !== "string";
      connection.decoder.add(data);
    } catch {
      // socket.io-parser throws on any malformed packet: that connection only is closed.
      this.closeSession(session, "parse error");
    }
  }

  protected override onEngineClose(session: EngineSession<ConnectionState>, reason: CloseReason): void {
    const connection = this.#connections.get(session.sid);
    if (connection === undefined) return;
    const kind = CLOSE_ERRORS[reason];
    if (kind) logRoomEvent({ event: "error", room: this.roomName, sid: session.sid, kind, reason });
    this.#connections.delete(session.sid);
    this.#shard.connectionClosed();
    connection.destroyDecoder();
    for (const socket of [...connection.sockets.values()]) socket.nsp.removeSocket(socket, DISCONNECT_REASONS[reason]);
    // A room left with only disconnected sessions still prunes them when their window ends.
    if (this.#recovery !== null) void this.setAlarm(Date.now() + this.#recovery.settings.maxDisconnectionDuration);
  }

  /** Closes connections that joined no namespace within connectTimeout; prunes the recovery log. */
  protected override onEngineTick(now: number, webSockets: readonly HeartbeatSocket[]): number | null {
    let next = this.#recovery?.prune(webSockets.length > 0 || this.sessions.size > 0) ?? null;
    if (!this.sessionsInMemory) {
      // A dormant WebSocket's connect deadline needs an alarm only while its saved state joined no
      // namespace. That state is read for connections young enough to have a deadline ahead or just
      // passed (a round comes at least once per ping interval), so an idle room of older ones reads
      // none, and one that connected in a wave has no alarm per deadline. Only a late one is rebuilt.
      const { connectTimeout, pingInterval } = this.options;
      const late: WebSocket[] = [];
      for (const { ws, createdAt } of webSockets) {
        const deadline = createdAt + connectTimeout;
        if (deadline <= now - 2 * pingInterval) continue;
        const state = this.dormantState(ws);
        if (state === undefined || Object.keys(state.sockets).length > 0) continue;
        if (deadline > now) next = Math.min(next ?? Infinity, deadline);
        else late.push(ws);
      }
      if (late.length > 0) {
        this.indexDormant();
        for (const ws of late) this.sessionOf(ws); // in memory now: the loop below closes it
      }
    }
    for (const connection of this.#connections.values()) {
      if (connection.sockets.size > 0 || Object.keys(connection.state.sockets).length > 0) continue;
      const deadline = connection.session.createdAt + this.options.connectTimeout;
      if (deadline <= now) {
        this.stats.count("connect_timeout");
        logRoomEvent({ event: "error", room: this.roomName, sid: connection.sid, kind: "connect_timeout" });
        this.closeSession(connection.session, "server close");
      } else next = Math.min(next ?? Infinity, deadline);
    }
    return next;
  }

  // --- Socket.IO packets ---------------------------------------------------

  private attachConnection(session: EngineSession<ConnectionState>): SessionConnection {
    const connection = new SessionConnection(session, this.#connectionHandlers);
    this.#connections.set(session.sid, connection);
    return connection;
  }

  private onPacket(connection: SessionConnection, packet: Packet): void {
    connection.pendingBinaryBytes = 0;
    if (invalidClientPacket(packet) !== null) return this.closeSession(connection.session, "parse error");
    if (connection.decodingBinary) binaryAsBuffers(packet.data);
    const socket = connection.sockets.get(packet.nsp);
    switch (packet.type) {
      case PacketType.CONNECT:
        this.connectNamespace(connection, packet.nsp, packet.data).catch((error) => {
          console.error("Socket.IO connect failed:", error);
          this.closeSession(connection.session, "server close");
        });
        return;
      case PacketType.DISCONNECT:
        if (socket) socket.nsp.removeSocket(socket, "client namespace disconnect");
        return;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT: {
        if (!socket) {
          // A client may have sent it before hearing that its CONNECT was refused.
          if (connection.connecting?.has(packet.nsp)) return;
          return this.closeSession(connection.session, "parse error");
        }
        const [event, ...args] = packet.data as [string, ...unknown[]];
        let ack = packet.id !== undefined ? socket.ackFunction(packet.id) : undefined;
        if (this.#webhooks?.wants("event", event)) {
          // The webhook's answer is the ack: the room's handlers still see the event, without the ack.
          const answer = ack;
          ack = undefined;
          void this.#webhooks.send(eventWebhook(this.webhookSocket(socket), event, args)).then((outcome) => answer?.(ackValue(outcome)));
        }
        if (ack) args.push(ack);
        socket.dispatch(event, args);
        return;
      }
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        if (!socket) return this.closeSession(connection.session, "parse error");
        socket.receiveAck(packet.id!, packet.data as unknown[]);
        return;
    }
  }

  private async connectNamespace(connection: SessionConnection, name: string, auth: unknown): Promise<void> {
    const existing = connection.sockets.get(name);
    if (existing) {
      existing.send(connectPacket(name, existing.id, existing.pid));
      return;
    }
    if (connection.connecting?.has(name)) return;
    const nsp = name.length <= MAX_NAMESPACE_LENGTH ? this.io.lookup(name) : null;
    if (nsp === null) {
      connection.send(new EncodedMessage(encode(connectErrorPacket(name.slice(0, MAX_NAMESPACE_LENGTH), "Invalid namespace"))));
      this.connectRefused(connection, name, "Invalid namespace");
      return;
    }
    const handshakeAuth = (auth ?? {}) as Record<string, unknown>;
    const restored = this.restoreSession(name, handshakeAuth);
    const shard = this.#shard.identity;
    const record: SocketRecord = {
      id: restored?.sid ?? (shard === null ? newSocketId() : shardSocketId(newSocketId(), shard.index)),
      rooms: restored?.rooms.filter((room) => room !== restored.sid) ?? [],
      data: restored ? restored.data : {}, // as socket.io: an empty object to fill in
      auth: handshakeAuth,
      connectedAt: Date.now(),
      pid: restored?.pid ?? (this.#recovery !== null ? newSocketId() : undefined),
    };
    const socket = new Socket<ListenEvents, EmitEvents, SocketData>(nsp, connection, record);
    socket.recovered = restored !== null;
    const skipMiddlewares = restored !== null && this.#recovery!.settings.skipMiddlewares;
    (connection.connecting ??= new Set()).add(name);
    nsp.connecting++;
    let refusal: Error | null;
    try {
      // The room's own authorize() (JWT) always runs; socket.io's skipMiddlewares skips the namespace's middlewares.
      refusal = await this.authorize(socket).then(() => (skipMiddlewares ? null : nsp.authorize(socket)), (error) => toError(error));
      // Sharded room: the directory must know this shard serves the namespace before the client hears CONNECT.
      if (refusal === null && shard !== null) await this.#shard.ready(name);
    } finally {
      connection.connecting!.delete(name);
      nsp.connecting--;
    }
    if (connection.session.closed) {
      restored?.release(true);
      this.io.releaseIfUnused(name);
      return;
    }
    if (refusal) {
      restored?.release(false);
      this.io.releaseIfUnused(name);
      const data = refusal instanceof ConnectError ? refusal.data : (refusal as { data?: unknown }).data;
      connection.send(new EncodedMessage(encode(connectErrorPacket(name, refusal.message, data))));
      this.connectRefused(connection, name, refusal.message);
      return;
    }
    connection.state.sockets[name] = record;
    try {
      connection.persist();
    } catch (error) {
      // Too much state (auth payload, namespaces) to survive hibernation: refuse this namespace only.
      delete connection.state.sockets[name];
      restored?.release(false);
      this.io.releaseIfUnused(name);
      connection.send(new EncodedMessage(encode(connectErrorPacket(name, (error as Error).message))));
      this.connectRefused(connection, name, (error as Error).message);
      return;
    }
    connection.sockets.set(name, socket);
    nsp.addSocket(socket);
    // Kept from now on, so that the socket can be recovered even if this instance goes without a disconnect.
    if (record.pid !== undefined) this.#recovery?.saveLive(nsp.savedSession(socket), connection.session.transport === "websocket");
    socket.send(connectPacket(name, socket.id, record.pid));
    // What the client missed, in order, before anything new (each packet still carries its offset). Read
    // now, not when the session was taken: packets logged while middlewares ran are in it too.
    if (restored !== null) for (const message of restored.missedPackets()) connection.send(message);
    this.socketConnected(socket);
    nsp.runConnection(socket);
    if (this.#webhooks?.wants("connect")) void this.#webhooks.send(connectWebhook(this.webhookSocket(socket)));
  }

  /** A disconnected socket's state, when the CONNECT auth asks for it and it can be honoured. */
  private restoreSession(nsp: string, auth: Record<string, unknown>): RestoredSession | null {
    if (this.#recovery === null || typeof auth.pid !== "string" || typeof auth.offset !== "string") return null;
    return this.#recovery.restoreSession(auth.pid, auth.offset, nsp);
  }

  private webhookSocket(socket: Socket<any, any, any>): WebhookSocket {
    return { room: socket.room, namespace: socket.nsp.name, socketId: socket.id, claims: socket.handshake.claims };
  }

  // --- stats, logs (src/room/room-stats.ts, room-log.ts) and hooks -----------

  /** A socket joined a namespace (before its connection handlers run); not called again after a wake. */
  protected onSocketConnected(_socket: Socket<ListenEvents, EmitEvents, SocketData>): void {}
  /** A socket left its namespace, whatever the reason (restored sockets included). */
  protected onSocketDisconnected(_socket: Socket<ListenEvents, EmitEvents, SocketData>, _reason: DisconnectReason): void {}

  private connectRefused(connection: SessionConnection, namespace: string, reason: string): void {
    this.stats.count("connect_refused");
    logRoomEvent({ event: "error", room: this.roomName, sid: connection.sid, namespace: namespace.slice(0, MAX_NAMESPACE_LENGTH), kind: "connect_refused", reason });
  }

  private socketConnected(socket: Socket<any, any, any>): void {
    this.stats.count("socketsConnected");
    this.logSocket("connect", socket);
    this.onSocketConnected(socket);
  }

  /** Every socket's disconnect, through its connection (a pattern handler would open every namespace). */
  private socketDisconnected(socket: Socket<any, any, any>, reason: DisconnectReason): void {
    this.stats.count("socketsDisconnected");
    this.logSocket("disconnect", socket, reason);
    if (this.#webhooks?.wants("disconnect")) void this.#webhooks.send(disconnectWebhook(this.webhookSocket(socket), reason));
    this.onSocketDisconnected(socket, reason);
  }

  private logSocket(event: "connect" | "disconnect", socket: Socket<any, any, any>, reason?: string): void {
    if (!this.options.logConnections) return;
    const { sid } = socket.connection;
    logRoomEvent({ event, room: socket.room, sid, namespace: socket.nsp.name, socket: socket.id, transport: this.transportOf(socket), reason });
  }

  /** The transport a socket's connection runs over now ("polling" while an upgrade is only probing). */
  protected transportOf(socket: Socket<any, any, any>): string {
    // Every connection of this room is a SessionConnection; its session outlives a close, for the disconnect log.
    return (socket.connection as SessionConnection).session.transport;
  }

  // --- sharded rooms (RPC between the objects of a sharded room, src/shard) ---

  /** Every call between the objects of a sharded room (src/shard/calls.ts). */
  shardCall(call: ShardCall): Promise<unknown> {
    if ("shard" in call && call.op !== "report" && call.op !== "dirUpdate") this.roomName ||= call.room;
    return this.#shard.handle(call);
  }

  // --- REST API (RPC) ------------------------------------------------------
  // Called by the Worker's REST API (src/rest/routes.ts) on this object's stub,
  // after it validated the request. Each method first rebuilds the sockets in
  // case the object just woke from hibernation.

  #idempotencyLog?: IdempotencyLog;

  /** The REST API speaks for any event map. */
  private get untypedIo(): Server {
    return this.io as unknown as Server;
  }

  /** Emits each command in order (an Idempotency-Key seen before is not delivered again). */
  restEmit(commands: EmitCommand[]): EmitOutcome[] {
    // Broadcasts reach dormant sockets as they are: nothing is rebuilt for them.
    this.indexDormant();
    this.#idempotencyLog ??= new IdempotencyLog(this.ctx.storage.sql);
    // A shard of a sharded room is called by the Worker, which reaches the other shards itself.
    if (this.#shard.identity !== null) return this.#shard.restEmit(commands);
    return rest.emitAll(this.untypedIo, this.#idempotencyLog, commands);
  }

  restInfo(): RoomInfo {
    this.restoreSessions();
    return rest.roomInfo(this.untypedIo, this.sessions.size);
  }

  /** Live connections by transport and sockets by namespace, and the counters (src/room/room-stats.ts). */
  async restStats(): Promise<RoomStatsReport> {
    this.restoreSessions();
    await this.stats.load();
    return { ...rest.roomInfo(this.untypedIo, this.sessions.size), transports: rest.transports(this.sessions.values()), ...this.stats.report() };
  }

  restFetchSockets(selector: SocketSelector): SocketDescription[] {
    this.restoreSessions();
    return rest.fetchSockets(this.untypedIo, selector);
  }

  /** Returns how many sockets were selected (and now are in `rooms`). */
  restSocketsJoin(selector: SocketSelector, rooms: string[]): number {
    this.restoreSessions();
    return rest.socketsJoin(this.untypedIo, selector, rooms);
  }

  restSocketsLeave(selector: SocketSelector, rooms: string[]): number {
    this.restoreSessions();
    return rest.socketsLeave(this.untypedIo, selector, rooms);
  }

  restDisconnectSockets(selector: SocketSelector, close: boolean): number {
    this.restoreSessions();
    return rest.disconnectSockets(this.untypedIo, selector, close);
  }
}

/** Connections restored without their listeners are reported once per isolate. */
let reportedLostListeners = false;

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
