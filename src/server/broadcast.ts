import { EncodedMessage } from "../engine.io/frames";
import { encode, eventPacket, RESERVED_EVENTS } from "../socket.io/protocol";
import type { Namespace } from "./namespace";
import type { Socket } from "./socket";

/**
 * Selects sockets of a namespace by room (`to`/`in`) and exclusion (`except`),
 * and emits to them. A broadcast is encoded once, whatever the number of recipients.
 */
export class BroadcastOperator {
  constructor(
    private readonly nsp: Namespace,
    private readonly rooms: ReadonlySet<string> = new Set(),
    private readonly exceptRooms: ReadonlySet<string> = new Set(),
    private readonly exceptSocket: Socket | null = null,
  ) {}

  /** Targets sockets in these rooms (union). */
  to(room: string | readonly string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp, union(this.rooms, room), this.exceptRooms, this.exceptSocket);
  }

  in(room: string | readonly string[]): BroadcastOperator {
    return this.to(room);
  }

  /** Leaves out sockets in these rooms (a socket id is a room of its own). */
  except(room: string | readonly string[]): BroadcastOperator {
    return new BroadcastOperator(this.nsp, this.rooms, union(this.exceptRooms, room), this.exceptSocket);
  }

  /** Emits to every selected socket; returns how many sockets it was sent to. */
  emit(event: string, ...args: unknown[]): number {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    if (args.some((arg) => typeof arg === "function")) {
      throw new Error("Broadcast with an acknowledgement needs socket.timeout(ms) (not supported yet)");
    }
    const message = new EncodedMessage(encode(eventPacket(this.nsp.name, event, args)));
    let count = 0;
    for (const socket of this.sockets()) {
      socket.connection.send(message);
      count++;
    }
    return count;
  }

  /** The selected sockets, each once. */
  *sockets(): Generator<Socket> {
    const excluded = new Set<Socket>();
    for (const room of this.exceptRooms) for (const socket of this.nsp.adapter.get(room) ?? []) excluded.add(socket);
    if (this.exceptSocket) excluded.add(this.exceptSocket);

    if (this.rooms.size === 0) {
      for (const socket of this.nsp.sockets.values()) if (!excluded.has(socket)) yield socket;
      return;
    }
    const seen = this.rooms.size > 1 ? new Set<Socket>() : null;
    for (const room of this.rooms) {
      for (const socket of this.nsp.adapter.get(room) ?? []) {
        if (excluded.has(socket)) continue;
        if (seen) {
          if (seen.has(socket)) continue;
          seen.add(socket);
        }
        yield socket;
      }
    }
  }

  /** Makes the selected sockets join rooms. */
  socketsJoin(room: string | readonly string[]): void {
    for (const socket of [...this.sockets()]) socket.join(room);
  }

  socketsLeave(room: string | readonly string[]): void {
    for (const socket of [...this.sockets()]) for (const r of toArray(room)) socket.leave(r);
  }

  disconnectSockets(close = false): void {
    for (const socket of [...this.sockets()]) socket.disconnect(close);
  }

  fetchSockets(): Socket[] {
    return [...this.sockets()];
  }
}

function toArray(room: string | readonly string[]): readonly string[] {
  return typeof room === "string" ? [room] : room;
}

function union(set: ReadonlySet<string>, more: string | readonly string[]): Set<string> {
  const result = new Set(set);
  for (const room of toArray(more)) result.add(room);
  return result;
}
