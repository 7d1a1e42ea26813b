/**
 * The sharding part of a room object (ARCHITECTURE.md, "Sharded rooms"): one
 * per object, whatever role the object plays in a sharded room (shard,
 * placement object, directory partition). A shard
 *
 * - registers its 0↔1 membership transitions (its first socket of a namespace
 *   or sub-room, its last) in the directory, and caches what it reads there
 *   (the directory tells its readers of every change);
 * - sends what its code broadcasts to the other shards that hold recipients,
 *   in publication order, over one ordered channel per destination;
 * - delivers what other shards send it, once each, to its own sockets.
 */
import type { Server } from "../server/server";
import * as rest from "../rest/room-operations";
import type { EmitCommand, EmitOutcome, RoomInfo, RoomStatsReport, SocketDescription, SocketSelector } from "../rest/commands";
import type { IdempotencyLog } from "../rest/idempotency";
import { callObject, type AckResult, type EmitItem, type ShardCall, type ShardCallResults, type ShardItem } from "./calls";
import { Channel, withRetries, type Sequenced } from "./channel";
import { applyLocally, emitWithAckLocally } from "./local-delivery";
import { directoryName, directoryPartition, membershipKey, namespaceKey, placementName, resolveShards, shardName, shardOfRoom } from "./names";
import { DirectoryStore, InboxStore, PlacementStore } from "./stores";

export interface ShardIdentity {
  room: string;
  index: number;
}

/** What the adapter needs of its room object. */
export interface ShardHost {
  readonly rooms: DurableObjectNamespace;
  readonly kv: SyncKvStorage;
  readonly io: Server;
  /** Rebuilds hibernated sessions (before any socket is looked at). */
  restoreSessions(): void;
  /** Live Engine.IO connections of this object. */
  connections(): number;
  idempotencyLog(): IdempotencyLog;
  info(): RoomInfo;
  stats(): Promise<RoomStatsReport>;
}

/** Directory answers cached per shard; beyond this many keys the oldest are forgotten. */
const MAX_CACHED_KEYS = 10_000;
/** A shard tells the placement object its connection count this long after a disconnect (coalescing a burst). */
const REPORT_DELAY_MS = 250;
const NONE: Promise<number> = Promise.resolve(0);
/** socket.io's default for server-side emits with an ack (its adapters' requestsTimeout). */
export const SERVER_SIDE_ACK_TIMEOUT_MS = 5_000;


export class ShardAdapter {
  identity: ShardIdentity | null = null;
  /** > 0 while this shard runs an operation another object asked for on its own sockets only. */
  private localOnly = 0;
  /** Restoring sockets after a wake: their memberships are in the directory already. */
  private quiet = false;
  private readonly cache = new Map<string, number[]>();
  /** Bumped by every invalidation: a lookup answered across one is not cached (it may be stale). */
  private invalidations = 0;
  private readonly membership = new Map<string, { present: boolean; done: Promise<void> }>();
  private readonly queue: { item: ShardItem; resolve: (n: number) => void }[] = [];
  private resolving = false;
  private readonly channels = new Map<number, Channel<ShardItem>>();
  private seq = 0;
  private reportTimer: ReturnType<typeof setTimeout> | null = null;
  /** Items other shards delivered here since the object started (operator stats, tests). */
  itemsReceived = 0;
  private placement?: PlacementStore;
  private directory?: DirectoryStore;
  private inbox?: InboxStore;

  constructor(private readonly host: ShardHost) {}

  /** Learns which shard this object is (from the Worker's headers, a connection's state or a call); attaches to the server once. */
  identify(room: string, index: number): void {
    if (this.identity !== null) return;
    this.identity = { room, index };
    this.host.io.useShard(this);
  }

  /** Whether broadcasts of server code go to the other shards now. */
  get fanOut(): boolean {
    return this.identity !== null && this.localOnly === 0;
  }

  // --- membership -----------------------------------------------------------

  /** A 0↔1 transition of this shard's members of a sub-room ("" : the namespace); resolves once the directory has it. */
  changed(nsp: string, room: string, present: boolean): Promise<void> | void {
    if (this.identity === null || shardOfRoom(room) !== null) return;
    const key = room === "" ? namespaceKey(nsp) : membershipKey(nsp, room);
    const current = this.membership.get(key);
    if (this.quiet) {
      if (present) this.membership.set(key, { present, done: current?.done ?? Promise.resolve() });
      return;
    }
    if (current !== undefined && current.present === present) return current.done;
    const done = (current?.done ?? Promise.resolve())
      .then(() => withRetries(() => this.updateDirectory(key, present)))
      .catch((error) => console.error("Sharded room: directory update failed:", error));
    const state = { present, done };
    this.membership.set(key, state);
    if (!present) void done.then(() => this.membership.get(key) === state && this.membership.delete(key));
    return done;
  }

  /** Resolves once the directory knows this shard has sockets in the namespace (before a CONNECT is answered). */
  ready(nsp: string): Promise<void> | void {
    return this.changed(nsp, "", true);
  }

  /** Runs `restore` (sockets rebuilt after a wake) without telling the directory what it already knows. */
  restoring(restore: () => void): void {
    this.quiet = true;
    try {
      restore();
    } finally {
      this.quiet = false;
    }
  }

  /** Every directory update asked for so far has completed. */
  async settled(): Promise<void> {
    await Promise.all([...this.membership.values()].map((m) => m.done));
  }

  private async updateDirectory(key: string, present: boolean): Promise<void> {
    const { room, index } = this.identity!;
    await callObject(this.host.rooms, directoryName(room, directoryPartition(key)), { op: "dirUpdate", room, key, shard: index, present });
  }

  /** A connection closed: the placement object hears the new count shortly after (one call per burst). */
  connectionClosed(): void {
    if (this.identity === null || this.reportTimer !== null) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = null;
      const { room, index } = this.identity!;
      const connections = this.host.connections();
      callObject(this.host.rooms, placementName(room), { op: "report", room, shard: index, connections }).catch((error) =>
        console.error("Sharded room: connection count report failed:", error),
      );
    }, REPORT_DELAY_MS);
  }

  // --- publishing -----------------------------------------------------------

  /**
   * Sends an item to every other shard that may hold a recipient; resolves with
   * how many sockets there received it. Items are resolved and queued in the
   * order they were published; a join or leave is a barrier (what follows it is
   * resolved after the other shards applied it and updated the directory).
   * Never rejects: a failure is logged and counts no socket.
   */
  publish(item: ShardItem, destinations = this.destinationsNow(item.nsp, item.rooms, item.kind)): Promise<number> {
    if (this.identity === null) return NONE;
    // Known now: straight into the channels (no promise per step).
    if (destinations !== null) return this.send(item, destinations);
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      void this.resolveQueue();
    });
  }

  /**
   * The other shards a broadcast to `rooms` goes to, when known without
   * waiting: nothing is queued before it and the cache holds every room. Else
   * null: the item must queue. Joins and leaves always queue (barriers).
   */
  destinationsNow(nsp: string, rooms: Iterable<string>, kind: ShardItem["kind"] = "emit"): number[] | null {
    if (this.identity === null) return [];
    if (this.queue.length > 0 || this.resolving || kind === "join" || kind === "leave") return null;
    return this.cachedDestinations(nsp, rooms);
  }

  /** Pushes an item into the channels of its destinations; resolves with the sockets they reached (a failure is logged). */
  private send(item: ShardItem, destinations: readonly number[]): Promise<number> {
    if (destinations.length === 0) return NONE;
    return Promise.all(destinations.map((d) => this.channel(d).push(this.nextSeq(), item))).then(
      (counts) => counts.reduce((a, b) => a + b, 0),
      (error) => {
        console.error("Sharded room: delivery to other shards failed:", error);
        return 0;
      },
    );
  }

  /** The other shards of a broadcast from the cache alone, or null when a key must be read from the directory. */
  private cachedDestinations(nsp: string, rooms: Iterable<string>): number[] | null {
    const self = this.identity!.index;
    let found: Set<number> | null = null;
    for (const room of rooms) {
      found ??= new Set<number>();
      const direct = shardOfRoom(room);
      if (direct !== null) {
        found.add(direct);
        continue;
      }
      const shards = this.cache.get(membershipKey(nsp, room));
      if (shards === undefined) return null;
      for (const s of shards) found.add(s);
    }
    if (found === null) {
      // No room named: the whole namespace.
      const shards = this.cache.get(namespaceKey(nsp));
      return shards === undefined ? null : shards.filter((s) => s !== self);
    }
    found.delete(self);
    return [...found];
  }

  private async resolveQueue(): Promise<void> {
    if (this.resolving) return;
    this.resolving = true;
    try {
      while (this.queue.length > 0) {
        const { item, resolve } = this.queue.shift()!;
        try {
          const sent = this.send(item, await this.destinations(item.nsp, item.rooms));
          sent.then(resolve);
          if (item.kind === "join" || item.kind === "leave") await sent;
        } catch (error) {
          console.error("Sharded room: the directory could not be read; not sent to other shards:", error);
          resolve(0);
        }
      }
    } finally {
      this.resolving = false;
    }
  }

  /** Sequence numbers start at the time in microseconds, so a restarted shard never reuses one. */
  private nextSeq(): number {
    this.seq = Math.max(this.seq + 1, Date.now() * 1000);
    return this.seq;
  }

  private channel(destination: number): Channel<ShardItem> {
    let channel = this.channels.get(destination);
    if (!channel) {
      const { room, index } = this.identity!;
      channel = new Channel((batch: Sequenced<ShardItem>[]) =>
        callObject(this.host.rooms, shardName(room, destination), { op: "deliver", room, shard: destination, publisher: index, batch }),
      );
      this.channels.set(destination, channel);
    }
    return channel;
  }

  /** Other shards that hold sockets of `nsp` in any of `rooms` (all of the namespace when empty). */
  async destinations(nsp: string, rooms: readonly string[]): Promise<number[]> {
    const found = await resolveShards(nsp, rooms, (key) => this.lookup(key));
    found.delete(this.identity!.index);
    return [...found];
  }

  private async lookup(key: string): Promise<readonly number[]> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const { room, index } = this.identity!;
    const before = this.invalidations;
    const shards = await callObject(this.host.rooms, directoryName(room, directoryPartition(key)), { op: "dirLookup", room, key, reader: index });
    // Empty answers are not cached: the directory keeps no entry (and no reader) for them.
    if (shards.length > 0 && before === this.invalidations) {
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, shards);
    }
    return shards;
  }

  /** A broadcast with acks: the other shards' sockets answer within `timeout` (outside the ordered channels). */
  async emitWithAck(item: EmitItem, timeout: number): Promise<AckResult> {
    const { room } = this.identity!;
    const destinations = await this.destinations(item.nsp, item.rooms);
    const results = await Promise.all(
      destinations.map((shard) => callObject(this.host.rooms, shardName(room, shard), { op: "emitWithAck", room, shard, item, timeout })),
    );
    return {
      count: results.reduce((n, r) => n + r.count, 0),
      responses: results.flatMap((r) => r.responses),
      timedOut: results.some((r) => r.timedOut),
    };
  }

  /** The sockets other shards hold that the selector picks (fetchSockets in a sharded room). */
  async fetchRemoteSockets(selector: SocketSelector): Promise<SocketDescription[]> {
    const { room } = this.identity!;
    const destinations = await this.destinations(selector.namespace, selector.rooms);
    const lists = await Promise.all(
      destinations.map((shard) => callObject(this.host.rooms, shardName(room, shard), { op: "fetchSockets", room, shard, selector })),
    );
    return lists.flat();
  }

  /** socket.io's serverSideEmit: to the listeners (`io.on(event)`) of every other shard of the room. */
  async serverSideEmit(event: string, args: unknown[], timeout: number | null): Promise<unknown[]> {
    const { room } = this.identity!;
    const destinations = await this.destinations("/", []);
    const responses = await Promise.all(
      destinations.map((shard) => callObject(this.host.rooms, shardName(room, shard), { op: "serverSideEmit", room, shard, event, args, timeout })),
    );
    return responses.flat();
  }

  // --- calls from other objects ----------------------------------------------

  async handle(call: ShardCall): Promise<ShardCallResults[ShardCall["op"]]> {
    switch (call.op) {
      case "assign":
        return (this.placement ??= new PlacementStore(this.host.kv)).assign(call.max);
      case "report":
        return (this.placement ??= new PlacementStore(this.host.kv)).report(call.shard, call.connections);
      case "active":
        return (this.placement ??= new PlacementStore(this.host.kv)).active();
      case "placed":
        return (this.placement ??= new PlacementStore(this.host.kv)).placed();
      case "dirLookup":
        return (this.directory ??= new DirectoryStore(this.host.kv)).lookup(call.key, call.reader);
      case "dirUpdate": {
        const readers = (this.directory ??= new DirectoryStore(this.host.kv)).update(call.key, call.shard, call.present);
        // A join resolves only once every reader dropped its cached answer: a publish after it reaches the new member.
        await Promise.all(
          readers.map((shard) =>
            callObject(this.host.rooms, shardName(call.room, shard), { op: "invalidate", room: call.room, shard, key: call.key }).catch((error) =>
              console.error("Sharded room: invalidation failed:", error),
            ),
          ),
        );
        return;
      }
    }
    this.identify(call.room, call.shard);
    this.host.restoreSessions();
    switch (call.op) {
      case "invalidate":
        this.cache.delete(call.key);
        this.invalidations++;
        return;
      case "deliver":
        return this.deliver(call.publisher, call.batch);
      case "emitWithAck":
        return emitWithAckLocally(this.host.io, call.item, call.timeout);
      case "restEmit":
        return this.restEmit(call.commands);
      case "socketsJoin": {
        const count = this.locally(() => rest.socketsJoin(this.host.io, call.selector, call.rooms));
        await this.settled();
        return count;
      }
      case "socketsLeave":
        return this.locally(() => rest.socketsLeave(this.host.io, call.selector, call.rooms));
      case "disconnectSockets":
        return this.locally(() => rest.disconnectSockets(this.host.io, call.selector, call.close));
      case "fetchSockets":
        return rest.fetchSockets(this.host.io, call.selector);
      case "info":
        return this.host.info();
      case "stats":
        return { ...(await this.host.stats()), itemsReceived: this.itemsReceived } as RoomStatsReport;
      case "serverSideEmit":
        return this.host.io.receiveServerSideEmit(call.event, call.args, call.timeout);
    }
  }

  /** Runs an operation on this shard's sockets only (the caller reaches the other shards itself). */
  locally<R>(operation: () => R): R {
    this.localOnly++;
    try {
      return operation();
    } finally {
      this.localOnly--;
    }
  }

  restEmit(commands: EmitCommand[]): EmitOutcome[] {
    return this.locally(() => rest.emitAll(this.host.io, this.host.idempotencyLog(), commands));
  }

  /**
   * One batch from a publisher. The last sequence number is written before any
   * socket is sent to: the runtime holds outgoing messages until the write is
   * stored, so either the batch went out and is remembered, or neither.
   */
  private async deliver(publisher: number, batch: Sequenced<ShardItem>[]): Promise<number[]> {
    const inbox = (this.inbox ??= new InboxStore(this.host.kv));
    const last = inbox.last(publisher);
    const fresh = batch.filter((b) => b.seq > last);
    if (fresh.length > 0) inbox.advance(publisher, fresh[fresh.length - 1].seq);
    this.itemsReceived += fresh.length;
    const counts = batch.map((b) => (b.seq > last ? this.locally(() => this.apply(b.item)) : 0));
    if (fresh.some((b) => b.item.kind === "join")) await this.settled();
    return counts;
  }

  private apply(item: ShardItem): number {
    const count = applyLocally(this.host.io, item);
    if (count === 0 && item.kind === "emit") this.heal(item.nsp, item.rooms, this.host.io.existing(item.nsp) ?? null);
    return count;
  }

  /**
   * A delivery found no member where the directory said there were some (the
   * shard lost them without saying so, e.g. polling sessions gone with an
   * eviction): the directory is corrected, so the publishers stop sending here.
   */
  private heal(nspName: string, rooms: readonly string[], nsp: { readonly size: number; adapter: { has(room: string): boolean } } | null): void {
    const stale = (key: string) => !this.membership.has(key);
    if (nsp === null || nsp.size === 0) {
      if (stale(namespaceKey(nspName))) void this.changed(nspName, "", false);
    }
    for (const room of rooms) {
      if (shardOfRoom(room) !== null || (nsp !== null && nsp.adapter.has(room))) continue;
      if (stale(membershipKey(nspName, room))) void this.changed(nspName, room, false);
    }
  }
}
