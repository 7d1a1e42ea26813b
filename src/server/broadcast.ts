import { EncodedMessage } from "../engine.io/frames";
import { encode, eventPacket, RESERVED_EVENTS } from "../socket.io/protocol";
import type { Member, Namespace } from "./namespace";
import { AckTimeoutError, type Socket } from "./socket";
import { mergeAcks } from "../shard/local-delivery";
import type { ShardItem } from "../shard/calls";
import type { DefaultEventsMap, EventNames, EventsMap } from "./typed-events";
import type { SocketDescription } from "../rest/commands";

export interface BroadcastFlags {
  /** Drop the packet for sockets that cannot take it now. */
  volatile?: boolean;
  /** How long acknowledgements are awaited, ms. */
  timeout?: number;
  /** This object's sockets only, not the other shards of a sharded room (a delivery from another shard). */
  local?: boolean;
}

type AnySocket = Socket<any, any, any>;

/** A socket of another shard of a sharded room, as `fetchSockets()` returns it (socket.io's RemoteSocket). */
export interface RemoteSocket<SocketData = any> {
  id: string;
  handshake: SocketDescription["handshake"];
  rooms: Set<string>;
  data: SocketData;
  emit(event: string, ...args: unknown[]): boolean;
  join(room: string | readonly string[]): void;
  leave(room: string): void;
  disconnect(close?: boolean): void;
}
type BroadcastAck = (error: Error | null, responses: unknown[]) => void;

/**
 * Selects sockets of a namespace by room (`to`/`in`) and exclusion (`except`),
 * and emits to them. A broadcast is encoded once, whatever the number of
 * recipients: every recipient gets the same frames.
 */
export class BroadcastOperator<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> {
  constructor(
    private readonly nsp: Namespace<any, EmitEvents, SocketData>,
    private readonly rooms: ReadonlySet<string> = new Set(),
    private readonly exceptRooms: ReadonlySet<string> = new Set(),
    private readonly flags: BroadcastFlags = {},
  ) {}

  /** Targets sockets in these rooms (union). */
  to(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.nsp, union(this.rooms, room), this.exceptRooms, this.flags);
  }

  in(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Leaves out sockets in these rooms (a socket id is a room of its own). */
  except(room: string | readonly string[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.nsp, this.rooms, union(this.exceptRooms, room), this.flags);
  }

  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.nsp, this.rooms, this.exceptRooms, { ...this.flags, volatile: true });
  }

  /** Awaits acknowledgements for at most `ms`: `emit(..., (error, responses) => ...)`. */
  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.nsp, this.rooms, this.exceptRooms, { ...this.flags, timeout: ms });
  }

  /**
   * Emits to every selected socket and returns how many it was sent to (socket.io
   * returns `true`). With `timeout(ms)`, a function as last argument receives
   * `(error, responses)`: every acknowledgement, or an error after `ms` with
   * the responses received so far.
   */
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): number {
    return this.emitHere(event, args, null);
  }

  /**
   * Emits as `emit` does and resolves with how many sockets received it: in a
   * sharded room, once every other shard holding recipients has delivered it.
   */
  emitCounted<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): Promise<number> {
    let remote: Promise<number> = Promise.resolve(0);
    const count = this.emitHere(event, args, (sent) => (remote = sent));
    return remote.then((n) => n + count);
  }

  private emitHere(event: string, args: unknown[], published: ((sent: Promise<number>) => void) | null): number {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as BroadcastAck) : null;
    if (ack) {
      if (this.flags.timeout === undefined) throw new Error("A broadcast with an acknowledgement needs timeout(ms)");
      args = args.slice(0, -1);
    }
    const id = ack ? this.nsp.nextAckId() : undefined;
    const volatile = this.flags.volatile === true;
    const nsp = this.nsp.name;
    // Recoverable namespaces log the packet once, its offset as last argument (not with acks, not volatile: as socket.io).
    const recovery = ack || volatile ? null : this.nsp.recovery;
    const message = recovery
      ? recovery.log(nsp, this.rooms, this.exceptRooms, (offset) => encode(eventPacket(nsp, event, [...args, offset])))
      : new EncodedMessage(encode(eventPacket(nsp, event, args, id)));
    // Acks are awaited per socket, in memory: only then are dormant sockets rebuilt.
    if (ack) this.nsp.wakeAll();
    const recipients: AnySocket[] | null = ack ? [] : null;
    let count = 0;
    this.forEachMember((member) => {
      if (volatile && !member.connection.writable) return;
      member.connection.send(message);
      recipients?.push(member as AnySocket);
      count++;
    });
    const shard = this.otherShards();
    // Where else it goes, when known now (null: only once queued items are resolved). A room on one shard,
    // or whose recipients are all here as the cache knows, gets [] and builds no item: nothing to send.
    const destinations = shard === null || ack !== null ? null : shard.destinationsNow(nsp, this.rooms);
    if (shard !== null && destinations?.length !== 0) {
      // Sharded room: the other shards holding recipients get it too, in publication order.
      const item = { kind: "emit" as const, nsp, rooms: [...this.rooms], except: [...this.exceptRooms], event, args, volatile };
      if (ack) {
        collectAcks(recipients!, id!, this.flags.timeout!, mergeAcks(ack, shard.emitWithAck(item, this.flags.timeout!)));
        return count;
      }
      const sent = shard.publish(item, destinations); // never rejects: a failure is logged by the shard
      published?.(sent);
    } else if (ack) collectAcks(recipients!, id!, this.flags.timeout!, ack);
    return count;
  }

  /** The room's other shards, when this broadcast goes to them (a sharded room, not a delivery from another shard). */
  private otherShards() {
    const shard = this.flags.local === true ? null : this.nsp.shard;
    return shard !== null && shard.fanOut ? shard : null;
  }

  /** Sends a socket operation (join, leave, disconnect) to the other shards of a sharded room. */
  private publishOperation(
    item: { kind: "join" | "leave"; targets: string[] } | { kind: "disconnect"; close: boolean },
  ): Promise<number> | null {
    const shard = this.otherShards();
    if (shard === null) return null;
    return shard.publish({ ...item, nsp: this.nsp.name, rooms: [...this.rooms], except: [...this.exceptRooms] } as ShardItem);
  }

  /** Emits and resolves with every acknowledgement (rejects after the timeout). */
  emitWithAck<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.emit(event, ...args, (error: Error | null, responses: unknown[]) => (error ? reject(error) : resolve(responses)));
    });
  }

  /**
   * This object's selected sockets, each once, synchronously: for the
   * project's own code (REST, deliveries from other shards). Server code uses
   * `fetchSockets()`, which also reaches the other shards of a sharded room.
   */
  localSocketsSync(): Socket<any, EmitEvents, SocketData>[] {
    this.nsp.wakeAll(); // dormant ones rebuilt: the caller gets real sockets
    const selected: Socket<any, EmitEvents, SocketData>[] = [];
    this.forEachMember((socket) => selected.push(socket as Socket<any, EmitEvents, SocketData>));
    return selected;
  }

  /**
   * Calls `visit` once for each selected member, dormant ones included (a
   * broadcast reaches them without rebuilding them). A plain loop rather than a
   * generator: a broadcast runs it once per recipient, and resuming a generator
   * per socket showed in profiles of large rooms.
   */
  private forEachMember(visit: (member: Member) => void): void {
    const index = this.nsp.adapter;
    const excluded = this.exceptRooms.size > 0 ? new Set<Member>() : null;
    if (excluded !== null) for (const room of this.exceptRooms) index.each(room, (member) => excluded.add(member));
    if (this.rooms.size === 0) {
      for (const member of this.nsp.members()) if (excluded === null || !excluded.has(member)) visit(member);
      return;
    }
    const seen = this.rooms.size > 1 ? new Set<Member>() : null;
    for (const room of this.rooms) {
      index.each(room, (member) => {
        if (excluded !== null && excluded.has(member)) return;
        if (seen) {
          if (seen.has(member)) return;
          seen.add(member);
        }
        visit(member);
      });
    }
  }

  /** Makes the selected sockets join rooms (in a sharded room, on every shard, in order with broadcasts). */
  socketsJoin(room: string | readonly string[]): void {
    for (const socket of this.localSocketsSync()) void socket.join(room);
    this.publishOperation({ kind: "join", targets: [...toArray(room)] });
  }

  socketsLeave(room: string | readonly string[]): void {
    for (const socket of this.localSocketsSync()) for (const r of toArray(room)) socket.leave(r);
    this.publishOperation({ kind: "leave", targets: [...toArray(room)] });
  }

  disconnectSockets(close = false): void {
    for (const socket of this.localSocketsSync()) socket.disconnect(close);
    this.publishOperation({ kind: "disconnect", close });
  }

  /**
   * The selected sockets, always as a Promise (as in socket.io): in a room of
   * one object it resolves at once with its sockets; in a sharded room, with
   * this shard's sockets and the other shards' as RemoteSocket (emit, join,
   * leave, disconnect act on the live socket wherever it is).
   */
  fetchSockets(): Promise<(Socket<any, EmitEvents, SocketData> | RemoteSocket<SocketData>)[]> {
    const local = this.localSocketsSync();
    const shard = this.otherShards();
    if (shard === null) return Promise.resolve(local);
    const selector = { namespace: this.nsp.name, rooms: [...this.rooms], except: [...this.exceptRooms] };
    return shard.fetchRemoteSockets(selector).then((remote) => [
      ...local,
      ...remote.map((description) => this.remoteSocket(description)),
    ]);
  }

  private remoteSocket(description: SocketDescription): RemoteSocket<SocketData> {
    const one = () => new BroadcastOperator<EmitEvents, SocketData>(this.nsp, new Set([description.id]));
    return {
      id: description.id,
      handshake: description.handshake,
      rooms: new Set(description.rooms),
      data: description.data as SocketData,
      emit: (event, ...args) => (one().emit(event as EventNames<EmitEvents>, ...args), true),
      join: (room) => one().socketsJoin(room),
      leave: (room) => one().socketsLeave(room),
      disconnect: (close = false) => one().disconnectSockets(close),
    };
  }
}

/** Gathers one acknowledgement per recipient, or gives up after `timeout` ms. */
function collectAcks(recipients: readonly AnySocket[], id: number, timeout: number, done: BroadcastAck): void {
  const responses: unknown[] = [];
  let finished = false;
  const finish = (error: Error | null) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    for (const socket of recipients) socket.forgetAck(id);
    done(error, responses);
  };
  const timer = setTimeout(() => finish(new AckTimeoutError()), timeout);
  if (recipients.length === 0) {
    queueMicrotask(() => finish(null));
    return;
  }
  for (const socket of recipients) {
    socket.expectAck(id, (...response: unknown[]) => {
      responses.push(response[0]);
      if (responses.length === recipients.length) finish(null);
    });
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
