import { BroadcastOperator } from "./broadcast";
import { NamespaceHandlers } from "./handlers";
import type { Socket } from "./socket";
import type { DisconnectReason } from "./types";

/** Room name → member sockets, inside one namespace of one room object. */
export class RoomIndex {
  private readonly rooms = new Map<string, Set<Socket>>();

  get(room: string): ReadonlySet<Socket> | undefined {
    return this.rooms.get(room);
  }

  add(room: string, socket: Socket): void {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(socket);
  }

  remove(room: string, socket: Socket): void {
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(socket);
    if (members.size === 0) this.rooms.delete(room);
  }

  names(): IterableIterator<string> {
    return this.rooms.keys();
  }
}

/**
 * A namespace of the room object: its connected sockets, its rooms, and the
 * handlers registered for it (directly, or through a pattern that matches it).
 */
export class Namespace extends NamespaceHandlers {
  readonly sockets = new Map<string, Socket>();
  readonly adapter = new RoomIndex();

  constructor(
    readonly name: string,
    /** Handlers of the patterns (`io.of(/regex/)`) that match this namespace. */
    private readonly inherited: () => readonly NamespaceHandlers[] = () => [],
  ) {
    super();
  }

  to(room: string | readonly string[]): BroadcastOperator {
    return new BroadcastOperator(this).to(room);
  }

  in(room: string | readonly string[]): BroadcastOperator {
    return this.to(room);
  }

  except(room: string | readonly string[]): BroadcastOperator {
    return new BroadcastOperator(this).except(room);
  }

  /** Emits to every socket of the namespace; returns how many sockets it was sent to. */
  emit(event: string, ...args: unknown[]): number {
    return new BroadcastOperator(this).emit(event, ...args);
  }

  fetchSockets(): Socket[] {
    return [...this.sockets.values()];
  }

  socketsJoin(room: string | readonly string[]): void {
    new BroadcastOperator(this).socketsJoin(room);
  }

  socketsLeave(room: string | readonly string[]): void {
    new BroadcastOperator(this).socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    new BroadcastOperator(this).disconnectSockets(close);
  }

  // --- used by the room object --------------------------------------------

  /** Indexes a socket (new, or restored after hibernation). */
  addSocket(socket: Socket): void {
    this.sockets.set(socket.id, socket);
    for (const room of socket.rooms) this.adapter.add(room, socket);
  }

  /** Unindexes a socket, forgets it in the connection's state and runs the disconnect handlers. */
  removeSocket(socket: Socket, reason: DisconnectReason): void {
    if (!this.sockets.delete(socket.id)) return;
    for (const room of socket.rooms) this.adapter.remove(room, socket);
    socket.markDisconnected();
    socket.connection.detach(socket);
    const state = socket.connection.state;
    if (state.sockets[this.name]?.id === socket.id) {
      delete state.sockets[this.name];
      socket.connection.persist();
    }
    this.runDisconnect(socket, reason);
  }

  private *chain(): Generator<NamespaceHandlers> {
    yield* this.inherited();
    yield this;
  }

  runConnection(socket: Socket): void {
    for (const handlers of this.chain()) handlers.fireConnection(socket);
  }

  runDisconnect(socket: Socket, reason: DisconnectReason): void {
    for (const handlers of this.chain()) handlers.fireDisconnect(socket, reason);
  }

  runEvent(socket: Socket, event: string, args: unknown[]): void {
    for (const handlers of this.chain()) handlers.fireEvent(socket, event, args);
  }
}
