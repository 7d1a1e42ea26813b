import type { Decoder } from "socket.io-parser";
import type { Env } from "../config";
import { EncodedMessage } from "../engine.io/frames";
import type { CloseReason, EngineSession } from "../engine.io/session";
import { Server, type ServerSettings } from "../server/server";
import { Socket } from "../server/socket";
import type { Connection, ConnectionState, DisconnectReason } from "../server/types";
import {
  connectErrorPacket,
  connectPacket,
  createDecoder,
  encode,
  invalidClientPacket,
  PacketType,
  type Packet,
} from "../socket.io/protocol";
import { EngineRoom } from "./engine-room";
import { newSocketId } from "./ids";

/** Request headers kept in the handshake (the attachment has 16 KB for everything). */
const KEPT_HEADERS = ["origin", "user-agent", "referer", "accept-language"];

const DISCONNECT_REASONS: Record<CloseReason, DisconnectReason> = {
  "transport close": "transport close",
  "transport error": "transport error",
  "client close": "transport close",
  "ping timeout": "ping timeout",
  "parse error": "parse error",
  "message too big": "transport error",
  "server close": "forced close",
};

/** An Engine.IO session seen from Socket.IO: its packet decoder and its sockets. */
class SessionConnection implements Connection {
  readonly decoder: Decoder = createDecoder();
  readonly sockets = new Map<string, Socket>();

  constructor(
    readonly session: EngineSession<ConnectionState>,
    private readonly closeSession: () => void,
  ) {}

  get sid(): string {
    return this.session.sid;
  }

  get state(): ConnectionState {
    return this.session.state;
  }

  send(message: EncodedMessage): void {
    this.session.send(message);
  }

  persist(): void {
    this.session.persist();
  }

  close(): void {
    this.closeSession();
  }

  detach(socket: Socket): void {
    if (this.sockets.get(socket.nsp.name) === socket) this.sockets.delete(socket.nsp.name);
  }
}

/**
 * A Socket.IO v5 server for the clients of one room. Subclasses declare their
 * namespaces and handlers in `setup(io)`, which runs each time the object is
 * constructed, including after hibernation.
 */
export abstract class SocketIORoom extends EngineRoom<ConnectionState> {
  protected readonly io: Server;
  private readonly connections = new Map<string, SessionConnection>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.io = new Server(this.serverSettings());
    this.setup(this.io);
  }

  /** Declares namespaces and handlers. Runs on every construction: register, don't act. */
  protected abstract setup(io: Server): void;

  protected serverSettings(): ServerSettings {
    return { dynamicNamespaces: true };
  }

  // --- Engine.IO hooks -----------------------------------------------------

  protected override initialState(request: Request): ConnectionState {
    const url = new URL(request.url);
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (key !== "sid" && key !== "t") query[key] = value;
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers[name] = value.slice(0, 512);
    }
    return { query, headers, address: request.headers.get("CF-Connecting-IP"), sockets: {} };
  }

  protected override onEngineOpen(session: EngineSession<ConnectionState>): void {
    this.attachConnection(session);
    void this.setAlarm(session.createdAt + this.options.connectTimeout);
  }

  protected override onEngineRestore(session: EngineSession<ConnectionState>): void {
    const connection = this.attachConnection(session);
    for (const [name, record] of Object.entries(session.state.sockets)) {
      const nsp = this.io.lookup(name);
      if (nsp === null) continue;
      const socket = new Socket(nsp, connection, record);
      connection.sockets.set(name, socket);
      nsp.addSocket(socket);
    }
  }

  protected override onEngineMessage(session: EngineSession<ConnectionState>, data: string | ArrayBuffer): void {
    const connection = this.connections.get(session.sid);
    if (connection === undefined) return;
    try {
      connection.decoder.add(data);
    } catch {
      // socket.io-parser throws on any malformed packet: that connection only is closed.
      this.closeSession(session, "parse error");
    }
  }

  protected override onEngineClose(session: EngineSession<ConnectionState>, reason: CloseReason): void {
    const connection = this.connections.get(session.sid);
    if (connection === undefined) return;
    this.connections.delete(session.sid);
    connection.decoder.destroy();
    for (const socket of [...connection.sockets.values()]) socket.nsp.removeSocket(socket, DISCONNECT_REASONS[reason]);
  }

  /** Closes connections that joined no namespace within connectTimeout. */
  protected override onEngineTick(now: number): number | null {
    let next: number | null = null;
    for (const connection of this.connections.values()) {
      if (connection.sockets.size > 0 || Object.keys(connection.state.sockets).length > 0) continue;
      const deadline = connection.session.createdAt + this.options.connectTimeout;
      if (deadline <= now) this.closeSession(connection.session, "server close");
      else next = Math.min(next ?? Infinity, deadline);
    }
    return next;
  }

  // --- Socket.IO packets ---------------------------------------------------

  private attachConnection(session: EngineSession<ConnectionState>): SessionConnection {
    const connection = new SessionConnection(session, () => this.closeSession(session, "server close"));
    connection.decoder.on("decoded", (packet: Packet) => this.onPacket(connection, packet));
    this.connections.set(session.sid, connection);
    return connection;
  }

  private onPacket(connection: SessionConnection, packet: Packet): void {
    if (invalidClientPacket(packet) !== null) return this.closeSession(connection.session, "parse error");
    const socket = connection.sockets.get(packet.nsp);
    switch (packet.type) {
      case PacketType.CONNECT:
        return this.connectNamespace(connection, packet.nsp, packet.data);
      case PacketType.DISCONNECT:
        if (socket) socket.nsp.removeSocket(socket, "client namespace disconnect");
        return;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT: {
        if (!socket) return this.closeSession(connection.session, "parse error");
        const [event, ...args] = packet.data as [string, ...unknown[]];
        if (packet.id !== undefined) args.push(socket.ackFunction(packet.id));
        socket.nsp.runEvent(socket, event, args);
        return;
      }
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        if (!socket) return this.closeSession(connection.session, "parse error");
        socket.receiveAck(packet.id!, packet.data as unknown[]);
        return;
    }
  }

  private connectNamespace(connection: SessionConnection, name: string, auth: unknown): void {
    const existing = connection.sockets.get(name);
    if (existing) {
      existing.send(connectPacket(name, existing.id));
      return;
    }
    const nsp = this.io.lookup(name);
    if (nsp === null) {
      connection.send(new EncodedMessage(encode(connectErrorPacket(name, "Invalid namespace"))));
      return;
    }
    const record = {
      id: newSocketId(),
      rooms: [],
      data: undefined,
      auth: (auth ?? {}) as Record<string, unknown>,
      connectedAt: Date.now(),
    };
    connection.state.sockets[name] = record;
    const socket = new Socket(nsp, connection, record);
    connection.sockets.set(name, socket);
    nsp.addSocket(socket);
    connection.persist();
    socket.send(connectPacket(name, socket.id));
    nsp.runConnection(socket);
  }
}
