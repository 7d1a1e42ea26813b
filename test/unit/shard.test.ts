import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ShardCall, ShardRpc } from "../../src/shard/calls";
import { Channel, MAX_ATTEMPTS } from "../../src/shard/channel";
import { DEFAULT_SHARD_MAX_CONNECTIONS, parseShardedRooms, parseShardMaxConnections } from "../../src/shard/config";
import {
  DIRECTORY_PARTITIONS,
  directoryPartition,
  membershipKey,
  namespaceKey,
  resolveShards,
  shardOfRoom,
  shardOfSocketId,
  shardSocketId,
} from "../../src/shard/names";
import { sumStats } from "../../src/shard/stats-sum";
import type { StatsReport } from "../../src/room/room-stats";
import { chooseShard } from "../../src/shard/placement";
import { newSocketId } from "../../src/room/ids";
import { connectSocketIO } from "./support/clients";

describe("SHARDED_ROOMS and SHARD_MAX_CONNECTIONS", () => {
  it("matches names, prefixes ending in * and * alone", () => {
    const sharded = parseShardedRooms(" live, chat-* ,");
    expect(["live", "chat-", "chat-42"].map(sharded)).toEqual([true, true, true]);
    expect(["liv", "live2", "chat", "lobby"].map(sharded)).toEqual([false, false, false, false]);
    expect(parseShardedRooms("*")("anything")).toBe(true);
    expect(parseShardedRooms("")("lobby")).toBe(false);
    expect(parseShardedRooms(undefined)("lobby")).toBe(false);
    expect(() => parseShardedRooms("ok,bad room")).toThrow(/"bad room"/);
    expect(() => parseShardedRooms("a*b")).toThrow(/prefix ending in/);
  });

  it("reads the connections per shard, default 5000, within the platform's cap", () => {
    expect(parseShardMaxConnections(undefined)).toBe(DEFAULT_SHARD_MAX_CONNECTIONS);
    expect(parseShardMaxConnections("")).toBe(5000);
    expect(parseShardMaxConnections("5")).toBe(5);
    for (const bad of ["0", "-1", "2.5", "abc", "40000"]) expect(() => parseShardMaxConnections(bad)).toThrow(/SHARD_MAX_CONNECTIONS/);
  });
});

describe("shard assignment", () => {
  it("packs connections into the fullest shard with room, then the lowest empty one, then a new one", () => {
    expect(chooseShard([], 5)).toBe(0);
    expect(chooseShard([3], 5)).toBe(0);
    expect(chooseShard([5], 5)).toBe(1);
    expect(chooseShard([5, 2], 5)).toBe(1);
    expect(chooseShard([2, 4], 5)).toBe(1);
    // An emptied shard stays idle while another has room...
    expect(chooseShard([0, 5, 3], 5)).toBe(2);
    expect(chooseShard([5, 0, 1], 5)).toBe(2);
    // ...and refills once every other one is full.
    expect(chooseShard([0, 5, 5], 5)).toBe(0);
    expect(chooseShard([5, 0, 5, 0], 5)).toBe(1);
  });
});

describe("ids and directory keys", () => {
  it("socket ids carry their shard; other room names do not look like them", () => {
    for (const shard of [0, 7, 35, 36, 1000]) {
      const id = shardSocketId(newSocketId(), shard);
      expect(shardOfSocketId(id)).toBe(shard);
      expect(shardOfRoom(id)).toBe(shard);
    }
    expect(shardOfRoom(newSocketId())).toBeNull(); // an unsharded room's socket id
    expect(shardOfRoom("user.1")).toBeNull();
    expect(shardOfRoom("room-with-a-dot.")).toBeNull();
  });

  it("spreads keys over every directory partition, the same way each time", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const p = directoryPartition(membershipKey("/", `user-${i}`));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(DIRECTORY_PARTITIONS);
      seen.add(p);
    }
    expect(seen.size).toBe(DIRECTORY_PARTITIONS);
    expect(directoryPartition("/\nx")).toBe(directoryPartition("/\nx"));
    expect(namespaceKey("/chat")).not.toBe(membershipKey("/", "chat"));
  });

  it("resolves socket ids without a lookup, the namespace or sub-rooms through the directory", async () => {
    const looked: string[] = [];
    const lookup = (key: string) => (looked.push(key), key === namespaceKey("/") ? [0, 1, 2] : key === membershipKey("/", "blue") ? [1, 3] : []);
    expect([...(await resolveShards("/", [], lookup))]).toEqual([0, 1, 2]);
    const id = shardSocketId(newSocketId(), 4);
    expect([...(await resolveShards("/", ["blue", id, "nobody"], lookup))].sort()).toEqual([1, 3, 4]);
    expect(looked).toEqual([namespaceKey("/"), membershipKey("/", "blue"), membershipKey("/", "nobody")]);
  });
});

describe("stats of a sharded room", () => {
  const report = (start: number, startedAt: number, awakeSince: number, socketsConnected: number, perMinute: number[], parseErrors: number): StatsReport =>
    ({
      startedAt,
      awakeSince,
      sinceStart: { socketsConnected, messagesIn: 1, errors: { parse_error: parseErrors } },
      perMinute: { start, minutes: 3, counts: { socketsConnected: perMinute, messagesIn: [0, 0, 1], errors: { parse_error: [0, 0, parseErrors] } } },
    }) as unknown as StatsReport;

  it("sums counters and per-minute series, aligned on the latest minute", () => {
    const sum = sumStats([report(120_000, 5, 50, 3, [1, 1, 1], 0), report(60_000, 2, 40, 4, [2, 1, 1], 2)]);
    expect(sum.startedAt).toBe(2);
    expect(sum.awakeSince).toBe(50);
    expect(sum.sinceStart).toEqual({ socketsConnected: 7, messagesIn: 2, errors: { parse_error: 2 } });
    expect(sum.perMinute.start).toBe(120_000);
    // The second shard's hour began a minute earlier: its first minute drops off, its last is 0 (not yet read there).
    expect(sum.perMinute.counts.socketsConnected).toEqual([2, 2, 1]);
    expect(sum.perMinute.counts.errors.parse_error).toEqual([0, 2, 0]);
  });
});

describe("ordered channel", () => {
  it("delivers in push order, in batches, one in flight; a failed batch is retried with the same sequence numbers", async () => {
    const calls: number[][] = [];
    let fail = 1;
    const channel = new Channel<string>(
      async (batch) => {
        calls.push(batch.map((b) => b.seq));
        await new Promise((r) => setTimeout(r, 5));
        if (fail-- > 0) throw new Error("destination reset");
        return batch.map((b) => b.item.length);
      },
      () => 1,
    );
    const results = await Promise.all(["a", "bb", "ccc"].map((item, i) => channel.push(i + 1, item)));
    expect(results).toEqual([1, 2, 3]);
    // First batch [1] failed and was sent again as it was; 2 and 3 waited and went together.
    expect(calls).toEqual([[1], [1], [2, 3]]);
    expect(channel.idle).toBe(true);
  });

  it("gives a batch up after its attempts, and goes on with the next", async () => {
    let attempts = 0;
    const channel = new Channel<string>(async (batch) => {
      if (batch[0].item === "doomed") {
        attempts++;
        throw new Error("always fails");
      }
      return [1];
    }, () => 0);
    const doomed = channel.push(1, "doomed");
    const next = channel.push(2, "fine");
    await expect(doomed).rejects.toThrow("always fails");
    expect(await next).toBe(1);
    expect(attempts).toBe(MAX_ATTEMPTS);
  });
});

/** The room objects of the unit Worker (RelayRoom), called as the objects of a sharded room call each other. */
function object(name: string): ShardRpc & DurableObjectStub {
  const rooms = (env as unknown as { ROOMS: DurableObjectNamespace }).ROOMS;
  return rooms.get(rooms.idFromName(name)) as unknown as ShardRpc & DurableObjectStub;
}
const rpc = <T>(name: string, call: ShardCall) => object(name).shardCall(call) as Promise<T>;

describe("directory, placement and inbox objects (Durable Object RPC)", () => {
  it("keeps directory entries only while a shard holds members: nothing grows when members come and go", async () => {
    const room = "dir-bound";
    const dir = `${room}#dir0`;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        const key = membershipKey("/", `user-${round}-${i}`);
        await rpc(dir, { op: "dirUpdate", room, key, shard: i % 4, present: true });
        expect(await rpc(dir, { op: "dirLookup", room, key, reader: 9 })).toEqual([i % 4]);
        await rpc(dir, { op: "dirUpdate", room, key, shard: i % 4, present: false });
        expect(await rpc(dir, { op: "dirLookup", room, key, reader: 9 })).toEqual([]);
      }
    }
    const entries = await runInDurableObject(object(dir), (_instance, ctx) => [...ctx.storage.kv.list({ prefix: "shard:" })].length);
    expect(entries).toBe(0);
  });

  it("tells readers of a key when a shard joins it, before the join resolves", async () => {
    const room = "dir-readers";
    const key = membershipKey("/", "blue");
    await rpc(`${room}#dir1`, { op: "dirUpdate", room, key, shard: 0, present: true });
    // Shard 2 reads (and caches) the entry by resolving a broadcast to "blue".
    expect(await rpc(`${room}#dir1`, { op: "dirLookup", room, key, reader: 2 })).toEqual([0]);
    await rpc(`${room}#dir1`, { op: "dirUpdate", room, key, shard: 1, present: true });
    const readers = await runInDurableObject(object(`${room}#dir1`), (_i, ctx) => ctx.storage.kv.get<{ readers: number[] }>(`shard:dir:${key}`));
    expect(readers).toEqual({ shards: [0, 1], readers: [2] });
  });

  it("counts assigned connections, takes the shards' reports, and keeps one row however many connect", async () => {
    const room = "placement-1";
    const assigned: number[] = [];
    for (let i = 0; i < 12; i++) assigned.push(await rpc<number>(`${room}#placement`, { op: "assign", room, max: 5 }));
    expect(assigned).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    await rpc(`${room}#placement`, { op: "report", room, shard: 0, connections: 0 });
    expect(await rpc(`${room}#placement`, { op: "active", room })).toEqual([1, 2]);
    expect(await rpc(`${room}#placement`, { op: "assign", room, max: 5 })).toBe(2); // not the emptied shard 0
    const rows = await runInDurableObject(object(`${room}#placement`), (_i, ctx) => [...ctx.storage.kv.list({ prefix: "shard:" })].length);
    expect(rows).toBe(1);
  });

  it("delivers a publisher's batch once, even when it is retried after the shard was evicted", async () => {
    const room = "inbox-1";
    const shard = object(`${room}#1`);
    const { socket } = await connectSocketIO(shard);
    const batch = [{ seq: 1_000, item: { kind: "emit" as const, nsp: "/", rooms: [], except: [], event: "m", args: [1], volatile: false } }];
    const deliver: ShardCall = { op: "deliver", room, shard: 1, publisher: 0, batch };
    expect(await shard.shardCall(deliver)).toEqual([1]);
    expect(await socket.next()).toBe('42["m",1]');
    expect(await shard.shardCall(deliver)).toEqual([0]); // the same batch again: not delivered twice
    await evictDurableObject(shard, { webSockets: "hibernate" });
    expect(await shard.shardCall(deliver)).toEqual([0]); // remembered in storage, across the eviction
    const later = { ...deliver, batch: [{ ...batch[0], seq: 1_001, item: { ...batch[0].item, args: [2] } }] };
    expect(await shard.shardCall(later)).toEqual([1]);
    expect(await socket.next()).toBe('42["m",2]');
    await expect(socket.next({ timeout: 300 })).rejects.toThrow(/no frame/);
  });
});
