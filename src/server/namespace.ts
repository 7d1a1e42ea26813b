import { BroadcastOperator } from "./broadcast";
import { NamespaceHandlers, runConnectMiddlewares } from "./handlers";
import { RECOVERABLE_REASONS, type RecoveryStore } from "./recovery";
import type { Socket } from "./socket";
import type { ShardAdapter } from "../shard/adapter";
import type { DefaultEventsMap, EventNames, EventsMap } from "./typed-events";
import type { DisconnectReason } from "./types";

type AnySocket = Socket<any, any, any>;

/** Room name → member sockets, inside one namespace of one room object. */
export class RoomIndex {
  private readonly rooms = new Map<string, Set<AnySocket>>();
  /** Sharded rooms: told when a room gets its first member here or loses its last (its Promise: the directory has it). */
  onChange: ((room: string, present: boolean) => void | Promise<void>) | null = null;

  get(room: string): ReadonlySet<AnySocket> | undefined {
    return this.rooms.get(room);
  }

  add(room: string, socket: AnySocket): void | Promise<void> {
    let members = this.rooms.get(room);
    if (!members) {
      this.rooms.set(room, (members = new Set()));
      members.add(socket);
      return room === socket.id ? undefined : this.onChange?.(room, true);
    }
    members.add(socket);
  }

  remove(room: string, socket: AnySocket): void {
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(socket);
    if (members.size === 0) {
      this.rooms.delete(room);
      if (room !== socket.id) void this.onChange?.(room, false);
    }
  }

  names(): IterableIterator<string> {
    return this.rooms.keys();
  }
}

/**
 * A namespace of the room object: its connected sockets, its rooms, and the
 * handlers registered for it (directly, or through a pattern that matches it).
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> extends NamespaceHandlers<ListenEvents, EmitEvents, SocketData> {
  readonly sockets = new Map<string, Socket<ListenEvents, EmitEvents, SocketData>>();
  readonly adapter = new RoomIndex();
  /** The room's shards (sharded rooms only, src/shard): where broadcasts also go. */
  shard: ShardAdapter | null = null;
  /** Connection state recovery of this namespace (null: off). */
  recovery: RecoveryStore | null = null;
  /** A socket listener registered outside `onSocket` throws (ServerSettings.strictListeners). */
  strictListeners = false;
  /** CONNECTs going through middlewares: the namespace must not be released under them. */
  connecting = 0;
  /** Ack ids start at a random point so that an ack from before a wake cannot match a new emit. */
  private ackIds = Math.floor(Math.random() * 2 ** 24);

  constructor(
    readonly name: string,
    /** Handlers of the patterns (`io.of(/regex/)`) that match this namespace. */
    private readonly inherited: () => readonly NamespaceHandlers<ListenEvents, EmitEvents, SocketData>[] = () => [],
    /** Called when the last socket leaves. */
    private readonly onEmpty: () => void = () => {},
  ) {
    super();
  }

  private operator(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this);
  }

  to(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.operator().to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.operator().except(room);
  }

  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.operator().volatile;
  }

  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return this.operator().timeout(ms);
  }

  /** Emits to every socket of the namespace; returns how many sockets it was sent to. */
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): number {
    return this.operator().emit(event, ...args);
  }

  emitWithAck<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): Promise<unknown[]> {
    return this.operator().emitWithAck(event, ...args);
  }

  /** The sockets of the namespace, as a Promise (as socket.io's); in a sharded room, every shard's. */
  fetchSockets(): ReturnType<BroadcastOperator<EmitEvents, SocketData>["fetchSockets"]> {
    return this.operator().fetchSockets();
  }

  socketsJoin(room: string | readonly string[]): void {
    this.operator().socketsJoin(room);
  }

  socketsLeave(room: string | readonly string[]): void {
    this.operator().socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.operator().disconnectSockets(close);
  }

  // --- used by the room object --------------------------------------------

  nextAckId(): number {
    return this.ackIds++;
  }

  /** Indexes a socket (new, or restored after hibernation). */
  addSocket(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    socket.connected = true;
    this.sockets.set(socket.id, socket);
    if (this.sockets.size === 1) void this.adapter.onChange?.("", true);
    for (const room of socket.rooms) void this.adapter.add(room, socket);
  }

  /** Unindexes a socket, forgets it in the connection's state and runs the disconnect handlers. */
  removeSocket(socket: Socket<ListenEvents, EmitEvents, SocketData>, reason: DisconnectReason): void {
    if (!this.sockets.delete(socket.id)) return;
    if (this.recovery !== null && socket.pid !== undefined && RECOVERABLE_REASONS.has(reason)) {
      this.recovery.saveSession({ pid: socket.pid, sid: socket.id, nsp: this.name, rooms: [...socket.rooms], data: socket.data });
    }
    for (const room of socket.rooms) this.adapter.remove(room, socket);
    socket.markDisconnected();
    socket.connection.detach(socket, reason);
    const state = socket.connection.state;
    if (state.sockets[this.name]?.id === socket.id) {
      delete state.sockets[this.name];
      socket.connection.persist(); // smaller than before: cannot overflow
    }
    socket.fireLocal("disconnect", [reason]);
    for (const handlers of this.chain()) handlers.fireDisconnect(socket, reason);
    if (this.sockets.size === 0) {
      void this.adapter.onChange?.("", false);
      this.onEmpty();
    }
  }

  /** Connect middlewares of the patterns that match, then of this namespace; resolves with a refusal. */
  authorize(socket: Socket<ListenEvents, EmitEvents, SocketData>): Promise<Error | null> {
    return runConnectMiddlewares(this.chain().flatMap((handlers) => handlers.middlewares), socket);
  }

  runConnection(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    socket.ensureListeners();
    const settled = () => socket.saveDataIfChanged();
    for (const handlers of this.chain()) handlers.fireConnection(socket, settled);
  }

  runSetup(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    for (const handlers of this.chain()) handlers.fireSetup(socket);
  }

  runEvent(socket: Socket<ListenEvents, EmitEvents, SocketData>, event: string, args: unknown[], settled: () => void): void {
    const chain = this.chain();
    for (const handlers of chain) handlers.fireAny(socket, event, args, settled);
    for (const handlers of chain) handlers.fireEvent(socket, event, args, settled);
  }

  /** The patterns' handlers (worked out once by the server, see Server.namespace), then this namespace's. */
  private chain(): NamespaceHandlers<ListenEvents, EmitEvents, SocketData>[] {
    return [...this.inherited(), this];
  }
}
