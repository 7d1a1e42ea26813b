import { EncodedMessage } from "../engine.io/frames";
import { ackPacket, disconnectPacket, encode, eventPacket, RESERVED_EVENTS, type Packet } from "../socket.io/protocol";
import { BroadcastOperator, type BroadcastFlags } from "./broadcast";
import { guard, logHandlerError } from "./handlers";
import type { Namespace } from "./namespace";
import type {
  AckResponse,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  SocketReservedEvents,
} from "./typed-events";
import type { Connection, DisconnectReason, Handshake, SocketRecord } from "./types";
import { parseQuery, type ParsedQuery } from "./handshake";

type Listener = (...args: any[]) => unknown;
const NO_ROOMS: ReadonlySet<string> = new Set();
/** `savedData` before `data` was first read. */
const NOT_READ: unique symbol = Symbol("not read");
type AckCallback = (...args: unknown[]) => void;
/** A packet middleware sees `[event, ...args]`; `next(error)` drops the packet. */
export type PacketMiddleware = (packet: [string, ...unknown[]], next: (error?: Error) => void) => unknown;

export class AckTimeoutError extends Error {
  constructor() {
    super("operation has timed out");
  }
}

/**
 * A client's socket in one namespace. Its id, rooms, auth and `data` live in the
 * connection's attachment and survive hibernation. Its listeners are rebuilt by
 * the namespace's `onSocket` setup whenever the socket is rebuilt in memory;
 * acknowledgements it is still waiting for live in memory only.
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> {
  readonly id: string;
  /** `rooms` as a Set, made on first use: the rooms joined live in the record meanwhile. */
  #rooms: Set<string> | null = null;
  connected = false;
  /** Whether this socket came back through connection state recovery (same id, rooms, data; missed events replayed). */
  recovered = false;
  // Created on first use: most sockets of a big room never wait for an ack or get listeners of their own.
  private pendingAcks: Map<number, AckCallback> | null = null;
  private listeners: Map<string, Listener[]> | null = null;
  private anyListeners: Listener[] | null = null;
  private middlewares: PacketMiddleware[] | null = null;
  private listenersReady = false;
  /**
   * JSON of `data` as last persisted, to persist only changes; taken when `data`
   * is first read (nothing can change it in place before), not for every socket a wake rebuilds.
   */
  private savedData: string | undefined | typeof NOT_READ = NOT_READ;
  /** True while the namespace's `onSocket` setups run for this socket: the only time listeners survive a wake. */
  private settingUp = false;
  /** The handshake query, parsed on first use. */
  private query: ParsedQuery | undefined;

  constructor(
    readonly nsp: Namespace<ListenEvents, EmitEvents, SocketData>,
    readonly connection: Connection,
    private readonly record: SocketRecord,
  ) {
    this.id = record.id;
  }

  /** The rooms this socket is in, its own id first (socket.io's `socket.rooms`). */
  get rooms(): Set<string> {
    return (this.#rooms ??= new Set([this.id, ...this.record.rooms]));
  }

  /** The rooms joined besides the socket's own id, without building `rooms`. */
  get joinedRooms(): readonly string[] {
    return this.record.rooms;
  }

  /** socket.io's handshake: the connection's first request (shared by its namespaces) and this socket's auth. */
  get handshake(): Handshake {
    const { headers, address, xdomain, secure, url } = this.connection.state;
    const handshake: Handshake = {
      headers,
      time: new Date(this.record.connectedAt).toString(),
      address,
      xdomain,
      secure,
      issued: this.record.connectedAt,
      url,
      query: (this.query ??= parseQuery(url)),
      auth: this.record.auth,
    };
    if (this.record.claims !== undefined) handshake.claims = this.record.claims;
    return handshake;
  }

  /** Replaces the handshake auth (e.g. without the token) once it is verified. */
  setVerifiedAuth(auth: Record<string, unknown>, claims?: Record<string, unknown>): void {
    this.record.auth = auth;
    if (claims !== undefined) this.record.claims = claims;
  }

  /** Private session id (connection state recovery): never sent to anyone but this socket's client. */
  get pid(): string | undefined {
    return this.record.pid;
  }

  /** The room object (top-level room) this socket is in. */
  get room(): string {
    return this.connection.state.room;
  }

  /**
   * Arbitrary data kept with the socket across hibernation (JSON, within the
   * attachment's 16 KB). Changes are saved after each handler returns (or its
   * promise settles), and at once on assignment.
   */
  get data(): SocketData {
    if (this.savedData === NOT_READ) this.savedData = jsonOf(this.record.data);
    return this.record.data as SocketData;
  }

  set data(value: SocketData) {
    const previous = this.record.data;
    this.record.data = value;
    try {
      this.saveData();
    } catch (error) {
      this.record.data = previous;
      throw error;
    }
  }

  // --- listeners -------------------------------------------------------------

  on<Ev extends EventNames<ListenEvents> | keyof SocketReservedEvents>(
    event: Ev,
    listener: Ev extends EventNames<ListenEvents>
      ? ListenEvents[Ev]
      : Ev extends keyof SocketReservedEvents
        ? SocketReservedEvents[Ev]
        : never,
  ): this {
    this.checkRegistration(`socket.on(${JSON.stringify(event)})`);
    this.listeners ??= new Map();
    const list = this.listeners.get(event);
    if (list) list.push(listener as Listener);
    else this.listeners.set(event, [listener as Listener]);
    return this;
  }

  once<Ev extends EventNames<ListenEvents>>(event: Ev, listener: ListenEvents[Ev]): this {
    const wrapper = (...args: unknown[]) => {
      this.off(event, wrapper as ListenEvents[Ev]);
      return (listener as Listener)(...args);
    };
    return this.on(event, wrapper as never);
  }

  off<Ev extends EventNames<ListenEvents>>(event: Ev, listener?: ListenEvents[Ev]): this {
    if (this.listeners === null) return this;
    if (!listener) this.listeners.delete(event);
    else this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  onAny(listener: (event: string, ...args: any[]) => unknown): this {
    this.checkRegistration("socket.onAny()");
    (this.anyListeners ??= []).push(listener);
    return this;
  }

  /** Registers a packet middleware (socket.io's `socket.use`). */
  use(middleware: PacketMiddleware): this {
    this.checkRegistration("socket.use()");
    (this.middlewares ??= []).push(middleware);
    return this;
  }

  // --- emitting --------------------------------------------------------------

  /** Emits to this socket; a function as last argument receives the client's acknowledgement. */
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): true {
    this.emitWith({}, event, args as unknown[]);
    return true;
  }

  /** Emits and resolves with the client's acknowledgement. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    event: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResponse<EmitEvents, Ev>> {
    return this.timeoutAck({}, event, args as unknown[]);
  }

  /** Bounds the wait for the acknowledgement: the callback gets `(error, response)`. */
  timeout(ms: number) {
    const flags: BroadcastFlags = { timeout: ms };
    return {
      emit: <Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): true => {
        this.emitWith(flags, event, args);
        return true;
      },
      emitWithAck: <Ev extends EventNames<EmitEvents>>(
        event: Ev,
        ...args: ArgsWithoutAck<EmitEvents, Ev>
      ): Promise<AckResponse<EmitEvents, Ev>> => this.timeoutAck(flags, event, args as unknown[]),
    };
  }

  /** The packet may be dropped if the client cannot take it now (a polling client between requests). */
  get volatile() {
    return {
      emit: <Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): true => {
        this.emitWith({ volatile: true }, event, args as unknown[]);
        return true;
      },
    };
  }

  /**
   * Joins rooms; throws (joining none of them) when the socket's state would outgrow its attachment.
   * In a sharded room, returns a Promise when another shard must learn it first (as socket.io's adapters do).
   */
  join(room: string | readonly string[]): void | Promise<void> {
    const added = (typeof room === "string" ? [room] : room).filter((r) => !this.rooms.has(r));
    if (added.length === 0) return;
    for (const r of added) this.rooms.add(r);
    try {
      this.saveRooms();
    } catch (error) {
      for (const r of added) this.rooms.delete(r);
      this.record.rooms = [...this.rooms].filter((r) => r !== this.id);
      throw error;
    }
    if (!this.connected) return;
    let registered: Promise<void>[] | null = null;
    for (const r of added) {
      const pending = this.nsp.adapter.add(r, this);
      if (pending) (registered ??= []).push(pending);
    }
    if (registered) return Promise.all(registered).then(() => {});
  }

  leave(room: string): void {
    if (room === this.id || !this.rooms.delete(room)) return;
    this.nsp.adapter.remove(room, this);
    this.saveRooms();
  }

  to(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.broadcast.except(room);
  }

  /** Every other socket of the namespace (or of the rooms chosen next). */
  get broadcast(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.nsp, new Set(), new Set([this.id]));
  }

  /** Disconnects this namespace; with `close`, the whole underlying connection. */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.connection.close();
      return this;
    }
    this.send(disconnectPacket(this.nsp.name));
    this.nsp.removeSocket(this, "server namespace disconnect");
    return this;
  }

  // --- used by the room and the namespace ------------------------------------

  send(packet: Packet): void {
    this.connection.send(new EncodedMessage(encode(packet)));
  }

  /** Registers the namespace's `onSocket` listeners once per in-memory socket. */
  ensureListeners(): void {
    if (this.listenersReady) return;
    this.listenersReady = true;
    this.settingUp = true;
    try {
      this.nsp.runSetup(this);
    } finally {
      this.settingUp = false;
    }
  }

  /**
   * A listener registered anywhere but in an `onSocket` setup (a `connection`
   * handler, an event handler, later) is not registered again when the object
   * wakes from hibernation. Reported at the first one: thrown under
   * `strictListeners`, else logged once, and the socket marked so that its
   * connection is closed after a wake instead of silently missing listeners.
   */
  private checkRegistration(what: string): void {
    if (this.settingUp) return;
    const message =
      `${what} was called outside io.onSocket() (e.g. in io.on("connection")): listeners registered there are lost ` +
      `when the room hibernates. Register them in io.onSocket((socket) => { socket.on(...) }) and keep side effects ` +
      `in io.on("connection") (docs/server-api.md, "Listeners and hibernation").`;
    if (this.nsp.strictListeners) throw new Error(message);
    if (!reportedOutsideSetup) {
      reportedOutsideSetup = true;
      console.error(message);
    }
    if (this.record.unrebuiltListeners) return;
    this.record.unrebuiltListeners = true;
    try {
      this.connection.persist();
    } catch (error) {
      logHandlerError(error);
    }
  }

  /** A client event: packet middlewares, then `onAny` listeners, then the event's listeners. */
  dispatch(event: string, args: unknown[]): void {
    this.ensureListeners();
    if (this.middlewares === null) return this.runListeners(event, args);
    runPacketMiddlewares(this.middlewares, [event, ...args], (error) => {
      if (error) this.fireLocal("error", [error]);
      else this.runListeners(event, args);
    });
  }

  private runListeners(event: string, args: unknown[]): void {
    const settled = () => this.saveDataIfChanged();
    this.nsp.runEvent(this, event, args, settled);
    if (this.anyListeners !== null) for (const listener of this.anyListeners) guard(() => listener(event, ...args), settled);
    const listeners = this.listeners?.get(event);
    if (listeners !== undefined) for (const listener of listeners) guard(() => listener(...args), settled);
  }

  /** Returns the function a handler calls to acknowledge the client's event (once). */
  ackFunction(id: number): AckCallback {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent || !this.connected) return;
      sent = true;
      this.send(ackPacket(this.nsp.name, id, args));
    };
  }

  /** Waits for the client's acknowledgement of packet `id`. */
  expectAck(id: number, callback: AckCallback): void {
    (this.pendingAcks ??= new Map()).set(id, callback);
  }

  forgetAck(id: number): void {
    this.pendingAcks?.delete(id);
  }

  receiveAck(id: number, args: unknown[]): void {
    const callback = this.pendingAcks?.get(id);
    if (callback === undefined) return; // Unknown, timed out, or lost to hibernation.
    this.pendingAcks!.delete(id);
    guard(() => callback(...args));
  }

  /** Runs the socket's own listeners of a reserved event ("disconnect", "error"). */
  fireLocal(event: string, args: unknown[]): void {
    this.ensureListeners();
    const listeners = this.listeners?.get(event);
    if (listeners !== undefined) for (const listener of listeners) guard(() => listener(...args));
  }

  markDisconnected(): void {
    this.connected = false;
    this.pendingAcks = null;
  }

  /** After a handler: saves `data` if it changed; a change too large for the attachment is undone. */
  saveDataIfChanged(): void {
    if (this.savedData === NOT_READ || jsonOf(this.record.data) === this.savedData) return;
    try {
      this.saveData();
    } catch (error) {
      logHandlerError(error);
      const saved = this.savedData as string | undefined;
      this.record.data = saved === undefined ? undefined : JSON.parse(saved);
    }
  }

  private saveRooms(): void {
    this.record.rooms = [...this.rooms].filter((r) => r !== this.id);
    this.connection.persist();
    this.nsp.socketStateChanged(this);
  }

  private saveData(): void {
    this.savedData = jsonOf(this.record.data);
    this.connection.persist();
    this.nsp.socketStateChanged(this);
  }

  private emitWith(flags: BroadcastFlags, event: string, args: unknown[]): void {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    if (flags.volatile && !this.connection.writable) return;
    let id: number | undefined;
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args = args.slice(0, -1);
      id = this.nsp.nextAckId();
      this.expectAck(id, withTimeout(this, id, flags.timeout, last as AckCallback));
    }
    const recovery = id === undefined && !flags.volatile ? this.nsp.recovery : null;
    if (recovery === null) return this.send(eventPacket(this.nsp.name, event, args, id));
    // Logged as a broadcast to the socket's own room, so that it is replayed if the client misses it (as socket.io).
    const nsp = this.nsp.name;
    this.connection.send(recovery.log(nsp, new Set([this.id]), NO_ROOMS, (offset) => encode(eventPacket(nsp, event, [...args, offset]))));
  }

  private timeoutAck(flags: BroadcastFlags, event: string, args: unknown[]): Promise<any> {
    return new Promise((resolve, reject) => {
      const callback = flags.timeout === undefined
        ? (...response: unknown[]) => resolve(response[0])
        : (error: unknown, ...response: unknown[]) => (error ? reject(error) : resolve(response[0]));
      this.emitWith(flags, event, [...args, callback]);
    });
  }
}

/** Listeners registered outside onSocket are logged once per isolate (every one throws under strictListeners). */
let reportedOutsideSetup = false;

/** With a timeout, the callback gets `(error, ...response)`; without, the response alone. */
function withTimeout(socket: Socket<any, any, any>, id: number, timeout: number | undefined, callback: AckCallback): AckCallback {
  if (timeout === undefined) return callback;
  const timer = setTimeout(() => {
    socket.forgetAck(id);
    callback(new AckTimeoutError());
  }, timeout);
  return (...response: unknown[]) => {
    clearTimeout(timer);
    callback(null, ...response);
  };
}

function runPacketMiddlewares(
  middlewares: readonly PacketMiddleware[],
  packet: [string, ...unknown[]],
  done: (error?: Error) => void,
): void {
  const step = (i: number): void => {
    if (i === middlewares.length) return done();
    let called = false;
    const next = (error?: Error) => {
      if (called) return;
      called = true;
      if (error) done(error);
      else step(i + 1);
    };
    try {
      const result = middlewares[i](packet, next);
      if (result instanceof Promise) result.catch((error) => next(error instanceof Error ? error : new Error(String(error))));
    } catch (error) {
      logHandlerError(error);
      next(error instanceof Error ? error : new Error(String(error)));
    }
  };
  step(0);
}

function jsonOf(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

export type { DisconnectReason };
