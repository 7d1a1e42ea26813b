/**
 * The REST API's view of a room (src/rest/routes.ts): the room object itself,
 * or, for a sharded room, every shard that holds selected sockets. The Worker
 * calls those shards itself, in parallel, and answers once each one has
 * answered; each shard keeps its own Idempotency-Keys, so a retried publish is
 * delivered once on every shard. A REST caller's sequential requests therefore
 * reach every recipient in order.
 */
import type { Env } from "../config";
import type { EmitCommand, EmitOutcome, RoomInfo, RoomStatsReport, SocketDescription, SocketSelector } from "../rest/commands";
import { roomStub } from "../rest/rooms";
import { callObject } from "./calls";
import { sumStats } from "./stats-sum";
import { readShardConfig } from "./config";
import { directoryName, directoryPartition, placementName, resolveShards, shardName } from "./names";

export interface RoomApi {
  restEmit(commands: EmitCommand[]): Promise<EmitOutcome[]>;
  restInfo(): Promise<RoomInfo>;
  restStats(): Promise<RoomStatsReport>;
  restFetchSockets(selector: SocketSelector): Promise<SocketDescription[]>;
  restSocketsJoin(selector: SocketSelector, rooms: string[]): Promise<number>;
  restSocketsLeave(selector: SocketSelector, rooms: string[]): Promise<number>;
  restDisconnectSockets(selector: SocketSelector, close: boolean): Promise<number>;
}

/** The room object of an unsharded room (no extra hop), or the shards of a sharded one. */
export function roomApi(env: Env, room: string): RoomApi {
  if (!readShardConfig(env).isSharded(room)) return roomStub(env, room) as unknown as RoomApi;
  return new ShardedRoomApi(env.ROOMS, room);
}

export class ShardedRoomApi implements RoomApi {
  constructor(
    private readonly rooms: DurableObjectNamespace,
    private readonly room: string,
  ) {}

  /** Shards holding sockets the selector picks: one directory read per sub-room (none for socket ids). */
  private async targets(nsp: string, rooms: readonly string[]): Promise<number[]> {
    const { room } = this;
    const found = await resolveShards(nsp, rooms, (key) =>
      callObject(this.rooms, directoryName(room, directoryPartition(key)), { op: "dirLookup", room, key, reader: -1 }),
    );
    return [...found].sort((a, b) => a - b);
  }

  /** Shards with connections now (presence counts every namespace). */
  private active(): Promise<number[]> {
    return callObject(this.rooms, placementName(this.room), { op: "active", room: this.room });
  }

  async restEmit(commands: EmitCommand[]): Promise<EmitOutcome[]> {
    const { room } = this;
    const outcomes: EmitOutcome[] = [];
    // In order: an item is on every target shard before the next one starts.
    for (const command of commands) {
      const shards = await this.targets(command.namespace, command.rooms);
      const results = await Promise.all(
        shards.map((shard) => callObject(this.rooms, shardName(room, shard), { op: "restEmit", room, shard, commands: [command] })),
      );
      const failed = results.map(([r]) => r).find((r) => !r.ok);
      if (failed) outcomes.push(failed);
      else {
        const ok = results.map(([r]) => r as Extract<EmitOutcome, { ok: true }>);
        outcomes.push({ ok: true, sockets: ok.reduce((n, r) => n + r.sockets, 0), replayed: ok.length > 0 && ok.every((r) => r.replayed) });
      }
    }
    return outcomes;
  }

  async restInfo(): Promise<RoomInfo> {
    const { room } = this;
    const infos = await Promise.all((await this.active()).map((shard) => callObject(this.rooms, shardName(room, shard), { op: "info", room, shard })));
    return sumInfo(infos);
  }

  /** Every shard the room ever placed a connection on: counters, presence and transports summed; then each shard's. */
  async restStats(): Promise<RoomStatsReport> {
    const { room } = this;
    const placed = await callObject(this.rooms, placementName(room), { op: "placed", room });
    const indexes = placed.length > 0 ? placed : [0];
    const reports = await Promise.all(indexes.map((shard) => callObject(this.rooms, shardName(room, shard), { op: "stats", room, shard })));
    const transports = { websocket: 0, polling: 0 };
    for (const r of reports) {
      transports.websocket += r.transports.websocket;
      transports.polling += r.transports.polling;
    }
    const shards = reports.map((r, i) => ({ shard: indexes[i], connections: r.connections, sockets: r.sockets, itemsReceived: (r as { itemsReceived?: number }).itemsReceived ?? 0 }));
    return { ...sumStats(reports), ...sumInfo(reports), transports, shards } as RoomStatsReport;
  }

  async restFetchSockets(selector: SocketSelector): Promise<SocketDescription[]> {
    const { room } = this;
    const shards = await this.targets(selector.namespace, selector.rooms);
    const lists = await Promise.all(shards.map((shard) => callObject(this.rooms, shardName(room, shard), { op: "fetchSockets", room, shard, selector })));
    return lists.flat();
  }

  restSocketsJoin(selector: SocketSelector, rooms: string[]): Promise<number> {
    return this.onEachTarget(selector, (shard) => ({ op: "socketsJoin", room: this.room, shard, selector, rooms }) as const);
  }

  restSocketsLeave(selector: SocketSelector, rooms: string[]): Promise<number> {
    return this.onEachTarget(selector, (shard) => ({ op: "socketsLeave", room: this.room, shard, selector, rooms }) as const);
  }

  restDisconnectSockets(selector: SocketSelector, close: boolean): Promise<number> {
    return this.onEachTarget(selector, (shard) => ({ op: "disconnectSockets", room: this.room, shard, selector, close }) as const);
  }

  private async onEachTarget(
    selector: SocketSelector,
    call: (shard: number) => { op: "socketsJoin" | "socketsLeave" | "disconnectSockets" } & Parameters<typeof callObject>[2],
  ): Promise<number> {
    const shards = await this.targets(selector.namespace, selector.rooms);
    const counts = await Promise.all(shards.map((shard) => callObject(this.rooms, shardName(this.room, shard), call(shard)) as Promise<number>));
    return counts.reduce((a, b) => a + b, 0);
  }
}

function sumInfo(infos: readonly RoomInfo[]): RoomInfo {
  const total: RoomInfo = { connections: 0, sockets: 0, namespaces: {} };
  for (const info of infos) {
    total.connections += info.connections;
    total.sockets += info.sockets;
    for (const [nsp, n] of Object.entries(info.namespaces)) total.namespaces[nsp] = (total.namespaces[nsp] ?? 0) + n;
  }
  return total;
}
