import { BroadcastOperator } from "./broadcast";
import { NamespaceHandlers, runConnectMiddlewares } from "./handlers";
import { RECOVERABLE_REASONS, type RecoveryStore, type SavedSession } from "./recovery";
import type { Socket } from "./socket";
import type { ShardAdapter } from "../shard/adapter";
import type { DefaultEventsMap, EventNames, EventsMap } from "./typed-events";
import type { DisconnectReason } from "./types";
import type { EncodedMessage } from "../engine.io/frames";

type AnySocket = Socket<any, any, any>;

/** What a broadcast needs of a recipient's connection. */
export interface MemberConnection {
  send(message: EncodedMessage): void;
  /** Whether a packet sent now goes out at once (false: a polling client between requests). */
  readonly writable: boolean;
}

/**
 * A socket known only from its connection's attachment: after a wake, sockets
 * are not rebuilt in memory until something needs them (their own packet, a
 * close, server code that looks at them), yet broadcasts reach them. `wake()`
 * rebuilds its connection, which replaces it with a `Socket` in the namespace.
 */
export interface DormantSocket {
  readonly dormant: true;
  readonly id: string;
  /** Rooms joined besides the socket's own id. */
  readonly rooms: readonly string[];
  readonly connection: MemberConnection;
  wake(): void;
}

/** A namespace's member: a socket in memory, or one a broadcast reaches without rebuilding it. */
export type Member = AnySocket | DormantSocket;

/**
 * Room name → members, inside one namespace of one room object. A socket's own
 * room (its id) is not stored: it is the member of that id, looked up in the
 * namespace's members (one Set per socket less).
 */
export class RoomIndex {
  private readonly rooms = new Map<string, Set<Member>>();
  /** Sharded rooms: told when a room gets its first member here or loses its last (its Promise: the directory has it). */
  onChange: ((room: string, present: boolean) => void | Promise<void>) | null = null;

  constructor(private readonly members: ReadonlyMap<string, Member>) {}

  /** Calls `visit` for each member of `room` (the member whose id it is, then those who joined it). */
  each(room: string, visit: (member: Member) => void): void {
    const own = this.members.get(room);
    if (own !== undefined) visit(own);
    const joined = this.rooms.get(room);
    if (joined !== undefined) for (const member of joined) visit(member);
  }

  /** Whether some member joined `room` (a socket's own id is no stored room). */
  has(room: string): boolean {
    return this.rooms.has(room);
  }

  add(room: string, member: Member): void | Promise<void> {
    let members = this.rooms.get(room);
    if (!members) {
      this.rooms.set(room, (members = new Set()));
      members.add(member);
      return this.onChange?.(room, true);
    }
    members.add(member);
  }

  remove(room: string, member: Member): void {
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(member);
    if (members.size === 0) {
      this.rooms.delete(room);
      void this.onChange?.(room, false);
    }
  }

  /** A dormant member rebuilt in memory takes its place in its rooms. */
  replace(room: string, old: Member, member: Member): void {
    const members = this.rooms.get(room);
    if (members === undefined || !members.delete(old)) return;
    members.add(member);
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
  /** Connected sockets by id; after a wake, some only dormant until something needs them (see DormantSocket). */
  readonly #members = new Map<string, Socket<ListenEvents, EmitEvents, SocketData> | DormantSocket>();
  #dormant = 0;
  readonly adapter = new RoomIndex(this.#members);
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

  /** Every connected socket by id (the dormant ones are rebuilt first). */
  get sockets(): ReadonlyMap<string, Socket<ListenEvents, EmitEvents, SocketData>> {
    this.wakeAll();
    return this.#members as Map<string, Socket<ListenEvents, EmitEvents, SocketData>>;
  }

  /** The sockets of the namespace, as a Promise (as socket.io's); in a sharded room, every shard's. */
  fetchSockets(): ReturnType<BroadcastOperator<EmitEvents, SocketData>["fetchSockets"]> {
    return this.operator().fetchSockets();
  }

  /** How many sockets are connected, dormant ones included (rebuilds none). */
  get size(): number {
    return this.#members.size;
  }

  /** Every member, dormant ones as they are: what a broadcast walks. */
  members(): IterableIterator<Socket<ListenEvents, EmitEvents, SocketData> | DormantSocket> {
    return this.#members.values();
  }

  /** Rebuilds the dormant members in memory (each wake() replaces its entry, in place). */
  wakeAll(): void {
    if (this.#dormant === 0) return;
    for (const member of this.#members.values()) {
      if (!("dormant" in member)) continue;
      member.wake();
      // Its connection could not be rebuilt (closed meanwhile): it is no member any more.
      if (this.#members.get(member.id) === member) this.forgetDormant(member);
    }
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

  /** Indexes a socket (new, or restored after hibernation, in place of its dormant entry). */
  addSocket(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    socket.connected = true;
    const dormant = this.#members.get(socket.id);
    this.#members.set(socket.id, socket);
    if (dormant !== undefined && "dormant" in dormant) {
      this.#dormant--;
      for (const room of dormant.rooms) this.adapter.replace(room, dormant, socket);
      return;
    }
    if (this.#members.size === 1) void this.adapter.onChange?.("", true);
    for (const room of socket.joinedRooms) void this.adapter.add(room, socket);
  }

  /** The namespace has no member left. */
  private emptied(): void {
    void this.adapter.onChange?.("", false);
    this.onEmpty();
  }

  private forgetDormant(member: DormantSocket): void {
    this.#members.delete(member.id);
    this.#dormant--;
    for (const room of member.rooms) this.adapter.remove(room, member);
    if (this.#members.size === 0) this.emptied();
  }

  /** Indexes a socket that a wake left in its attachment (see DormantSocket). */
  addDormant(member: DormantSocket): void {
    if (this.#members.has(member.id)) return;
    this.#members.set(member.id, member);
    this.#dormant++;
    if (this.#members.size === 1) void this.adapter.onChange?.("", true);
    for (const room of member.rooms) void this.adapter.add(room, member);
  }

  /** Unindexes a socket, forgets it in the connection's state and runs the disconnect handlers. */
  removeSocket(socket: Socket<ListenEvents, EmitEvents, SocketData>, reason: DisconnectReason): void {
    if (this.#members.get(socket.id) !== socket) return;
    this.#members.delete(socket.id);
    if (this.recovery !== null && socket.pid !== undefined) {
      if (RECOVERABLE_REASONS.has(reason)) this.recovery.saveSession(this.savedSession(socket));
      else this.recovery.dropSession(socket.pid);
    }
    for (const room of socket.joinedRooms) this.adapter.remove(room, socket);
    socket.markDisconnected();
    socket.connection.detach(socket, reason);
    const state = socket.connection.state;
    if (state.sockets[this.name]?.id === socket.id) {
      delete state.sockets[this.name];
      socket.connection.persist(); // smaller than before: cannot overflow
    }
    socket.fireLocal("disconnect", [reason]);
    for (const handlers of this.chain()) handlers.fireDisconnect(socket, reason);
    if (this.#members.size === 0) this.emptied();
  }

  /** A socket's state as connection state recovery keeps it. */
  savedSession(socket: Socket<ListenEvents, EmitEvents, SocketData>): SavedSession {
    return { pid: socket.pid!, sid: socket.id, nsp: this.name, rooms: [socket.id, ...socket.joinedRooms], data: socket.data };
  }

  /** A connected socket's rooms or data changed: its live recovery row follows (recovery on only). */
  socketStateChanged(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    if (this.recovery === null || socket.pid === undefined || !socket.connected) return;
    this.recovery.updateLive(socket.pid, [socket.id, ...socket.joinedRooms], socket.data);
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
