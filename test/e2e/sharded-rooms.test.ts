/**
 * Sharded rooms (SHARDED_ROOMS, SHARD_MAX_CONNECTIONS=5): one room served by
 * many objects, driven by real socket.io-client sockets in every transport,
 * against the Worker run locally by wrangler (TestRoom for server code, the
 * shipped relay for the zero-code path).
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, collect, connect, connectNamespace, MODES, next, sleep, type Mode } from "./support/clients";
import { startWorker, TEST_WORKER_CONFIG, type RunningWorker } from "./support/worker";

const API_KEY = "e2e-shard-key";
const VARS = { SHARDED_ROOMS: "shard-*,exact-sharded", SHARD_MAX_CONNECTIONS: "5" };
const modes = Object.keys(MODES) as Mode[];

let server: RunningWorker;
let relay: RunningWorker;
beforeAll(async () => {
  [server, relay] = await Promise.all([
    startWorker(VARS, { configPath: TEST_WORKER_CONFIG, secrets: { API_KEY } }),
    startWorker(VARS, { secrets: { API_KEY } }),
  ]);
});
afterAll(async () => {
  closeAll();
  await Promise.all([server?.stop(), relay?.stop()]);
});

let rooms = 0;
const freshRoom = () => `shard-${Date.now()}-${rooms++}`;

async function call(worker: RunningWorker, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${worker.url}/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** `n` clients, connected one after another (the placement fills shards in turn), cycling through the transports. */
async function clients(worker: RunningWorker, room: string, n: number, only?: Mode): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) sockets.push(await connect(worker.url, room, only ?? modes[i % modes.length]));
  return sockets;
}

function ack<T = any>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<T>;
}

/** A socket id of a sharded room ends with "." and its shard in base 36. */
const shardOf = (id: string) => parseInt(id.slice(id.lastIndexOf(".") + 1), 36);

/** Waits until `condition` holds (polled), or fails after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(25);
  }
}

async function itemsReceived(worker: RunningWorker, room: string): Promise<Map<number, number>> {
  const { body } = await call(worker, "GET", `/rooms/${room}/stats`);
  return new Map((body.shards as { shard: number; itemsReceived: number }[]).map((s) => [s.shard, s.itemsReceived]));
}

describe("a sharded room with server code (30 clients, 6 shards, every transport)", () => {
  const room = freshRoom();
  let sockets: Socket[];
  let ids: string[];
  const member = (i: number) => i % 7 === 0; // sockets 0, 7, 14, 21, 28: shards 0, 1, 2, 4, 5

  beforeAll(async () => {
    sockets = await clients(server, room, 30);
    ids = await Promise.all(sockets.map((s) => ack<{ id: string }>(s, "whoami").then((w) => w.id)));
  }, 60_000);

  it("packs 5 connections into each of 6 shards; a client's socket id names its shard", () => {
    expect(ids.map(shardOf)).toEqual(sockets.map((_, i) => Math.floor(i / 5)));
    expect(sockets.map((s) => s.id)).toEqual(ids);
    expect(new Set(sockets.map((s) => s.io.engine.transport.name))).toEqual(new Set(["websocket", "polling"]));
  });

  it("REST stats sum every shard's counters, per minute too, and list each shard", async () => {
    const { body } = await call(server, "GET", `/rooms/${room}/stats`);
    expect(body.shards.map((s: { shard: number; connections: number }) => [s.shard, s.connections])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, 5]));
    expect(body.connections).toBe(30);
    expect(body.sinceStart.socketsConnected).toBe(30); // 5 per shard: the first shard alone counted 5
    expect(body.sinceStart.connectionsOpened).toBe(30);
    expect(body.perMinute.counts.socketsConnected.reduce((a: number, b: number) => a + b, 0)).toBe(30);
    expect(body.perMinute.counts.socketsConnected).toHaveLength(60);
  });

  it("io.emit from server code reaches every socket of every shard exactly once", async () => {
    const seen = sockets.map((s) => collect(s, "all"));
    sockets[3].emit("io-emit", "all", "hello");
    await until(() => seen.every((s) => s.length >= 1));
    await sleep(200);
    expect(seen).toEqual(sockets.map(() => [["hello"]]));
  });

  it("sub-room broadcasts reach members on other shards only, and touch only the shards that hold members", async () => {
    await Promise.all(sockets.filter((_, i) => member(i)).map((s) => ack(s, "join", "blue")));
    const before = await itemsReceived(server, room);
    const seen = sockets.map((s) => collect(s, "news"));
    sockets[1].emit("to", "blue", "news", "for blue");
    await until(() => seen.filter((s) => s.length > 0).length === 5);
    await sleep(200);
    expect(seen.map((s) => s.length)).toEqual(sockets.map((_, i) => (member(i) ? 1 : 0)));
    const after = await itemsReceived(server, room);
    // Shard 0 (the publisher) sent to shards 1, 2, 4, 5; shard 3 holds no member and got nothing.
    expect([1, 2, 3, 4, 5].map((k) => (after.get(k) ?? 0) - (before.get(k) ?? 0))).toEqual([1, 1, 0, 1, 1]);
  });

  it("io.to(socketId) reaches one socket on another shard, with one delivery", async () => {
    const seen = sockets.map((s) => collect(s, "private"));
    const before = await itemsReceived(server, room);
    sockets[0].emit("io-to", ids[27], "private", "psst");
    await until(() => seen[27].length === 1);
    await sleep(200);
    expect(seen.map((s) => s.length)).toEqual(sockets.map((_, i) => (i === 27 ? 1 : 0)));
    const after = await itemsReceived(server, room);
    expect([...after].reduce((n, [k, v]) => n + v - (before.get(k) ?? 0), 0)).toBe(1);
  });

  it("fetchSockets() sees every shard; remote sockets emit and join", async () => {
    const all = await ack<{ id: string }[]>(sockets[2], "fetch", null);
    expect(all.map((s) => s.id)).toEqual([...ids].sort());
    const blue = await ack<{ id: string; rooms: string[] }[]>(sockets[2], "fetch", "blue");
    expect(blue.map((s) => s.id)).toEqual(ids.filter((_, i) => member(i)).sort());
    expect(blue.every((s) => s.rooms.includes("blue"))).toBe(true);

    const mine = sockets.map((s) => collect(s, "yours"));
    expect(await ack(sockets[29], "fetch-and-emit", "blue", "yours")).toBe(5);
    await until(() => mine.filter((m) => m.length > 0).length === 5);
    sockets.forEach((s, i) => expect(mine[i]).toEqual(member(i) ? [[ids[i]]] : []));

    await ack(sockets[29], "fetch-and-join", "blue", "green");
    await until(async () => (await call(server, "GET", `/rooms/${room}/sockets?rooms=green`)).body.sockets.length === 5);
  });

  it("a broadcast with acks collects every shard's answers, or times out with those received", async () => {
    sockets.forEach((s, i) => s.on("vote", (answer: (n: number) => void) => answer(i)));
    const all = await ack<{ error: string | null; responses: number[] }>(sockets[4], "poll-all", 5000);
    expect(all.error).toBeNull();
    expect([...all.responses].sort((a, b) => a - b)).toEqual(sockets.map((_, i) => i));

    sockets[22].off("vote");
    sockets[22].on("vote", () => {}); // never answers
    const partial = await ack<{ error: string | null; responses: number[] }>(sockets[4], "poll-all", 1000);
    expect(partial.error).toBe("operation has timed out");
    expect(partial.responses).toHaveLength(29);
  });

  it("serverSideEmit reaches the other shards, and their acks come back", async () => {
    const answer = await ack<{ error: string | null; responses: string[] }>(sockets[0], "server-side", "ping");
    expect(answer).toEqual({ error: null, responses: ["ping:5", "ping:5", "ping:5", "ping:5", "ping:5"] });
  });

  it("REST emit, presence, sockets, join and leave count and reach every shard", async () => {
    const seen = sockets.map((s) => collect(s, "rest"));
    const emitted = await call(server, "POST", `/rooms/${room}/emit`, { event: "rest", args: [1] });
    expect(emitted).toEqual({ status: 200, body: { sockets: 30, replayed: false } });
    await until(() => seen.every((s) => s.length === 1));

    // A retry with the same Idempotency-Key is delivered once on every shard.
    const key = { "Idempotency-Key": `shard-${Date.now()}` };
    expect((await call(server, "POST", `/rooms/${room}/emit`, { event: "rest", args: [2] }, key)).body).toEqual({ sockets: 30, replayed: false });
    expect((await call(server, "POST", `/rooms/${room}/emit`, { event: "rest", args: [2] }, key)).body).toEqual({ sockets: 30, replayed: true });
    await until(() => seen.every((s) => s.length === 2));

    const presence = await call(server, "GET", `/rooms/${room}`);
    expect(presence.body).toEqual({ room, connections: 30, sockets: 30, namespaces: { "/": 30 } });
    expect((await call(server, "GET", `/rooms/${room}/sockets`)).body.sockets).toHaveLength(30);

    expect((await call(server, "POST", `/rooms/${room}/join`, { rooms: ["blue"], join: ["red"] })).body).toEqual({ sockets: 5 });
    await sleep(200);
    expect(seen.map((s) => s.length)).toEqual(sockets.map(() => 2));
    const red = sockets.map((s) => collect(s, "red"));
    expect((await call(server, "POST", `/rooms/${room}/emit`, { event: "red", rooms: ["red"], args: [] })).body.sockets).toBe(5);
    await until(() => red.filter((r) => r.length > 0).length === 5);
    expect(red.map((r) => r.length)).toEqual(sockets.map((_, i) => (member(i) ? 1 : 0)));
    expect((await call(server, "POST", `/rooms/${room}/leave`, { rooms: ["red"], leave: ["red"] })).body).toEqual({ sockets: 5 });
    expect((await call(server, "POST", `/rooms/${room}/emit`, { event: "red", rooms: ["red"], args: [] })).body.sockets).toBe(0);
  });

  it("io.room(name) from another room reaches and counts every shard", async () => {
    const outsider = await connect(server.url, `plain-${Date.now()}`, "websocket only");
    const seen = sockets.map((s) => collect(s, "from-afar"));
    expect(await ack(outsider, "cross", room, [], "from-afar", 1)).toBe(30);
    expect(await ack(outsider, "cross", room, ["blue"], "from-afar", 2)).toBe(5);
    await until(() => seen.every((s, i) => s.length === (member(i) ? 2 : 1)));
    outsider.disconnect();
  });

  it("socketsJoin and disconnectSockets from server code act on every shard; REST disconnect too", async () => {
    await ack(sockets[5], "sockets-join", "blue", "purple");
    await until(async () => (await call(server, "GET", `/rooms/${room}/sockets?rooms=purple`)).body.sockets.length === 5);
    const gone = sockets.map((s) => collect(s, "disconnect"));
    await ack(sockets[5], "disconnect-room", "purple");
    await until(() => gone.filter((g) => g.length > 0).length === 5);
    expect(gone.map((g) => g.length)).toEqual(sockets.map((_, i) => (member(i) ? 1 : 0)));
    expect((await call(server, "GET", `/rooms/${room}`)).body.sockets).toBe(25);
    const last = await call(server, "POST", `/rooms/${room}/disconnect`, { rooms: [ids[29]] });
    expect(last.body).toEqual({ sockets: 1 });
    await until(() => !sockets[29].connected);
  });
});

describe("a sharded room with the relay", () => {
  it("relays across shards in every transport: each message once, in the sender's order, counted in its ack", { timeout: 30_000 }, async () => {
    const room = freshRoom();
    const sockets = await clients(relay, room, 12);
    expect(new Set(sockets.map((s) => shardOf(s.id!))).size).toBe(3);
    const seen = sockets.map((s) => collect(s, "chat"));
    for (let i = 0; i < 29; i++) sockets[6].emit("chat", i);
    expect(await sockets[6].timeout(10_000).emitWithAck("chat", 29)).toEqual({ delivered: 11 });
    await until(() => seen.every((s, i) => i === 6 || s.length === 30), 10_000);
    const inOrder = Array.from({ length: 30 }, (_, i) => [i]);
    sockets.forEach((_, i) => expect(seen[i]).toEqual(i === 6 ? [] : inOrder));
    closeAll();
  });

  it("keeps namespaces apart across shards; volatile REST emits reach connected WebSockets", async () => {
    const room = freshRoom();
    const main = await clients(relay, room, 8, "websocket only");
    const news = await Promise.all(main.filter((_, i) => i % 2 === 0).map((s) => connectNamespace(s, "/news")));
    const mainSeen = main.map((s) => collect(s, "story"));
    const newsSeen = news.map((s) => collect(s, "story"));
    news[0].emit("story", "n1");
    await until(() => newsSeen.slice(1).every((s) => s.length === 1));
    await sleep(200);
    expect(newsSeen.map((s) => s.length)).toEqual([0, 1, 1, 1]);
    expect(mainSeen.every((s) => s.length === 0)).toBe(true);
    const volatile = await call(relay, "POST", `/rooms/${room}/emit`, { event: "story", namespace: "/news", args: ["v"], volatile: true });
    expect(volatile.body.sockets).toBe(4);
    closeAll();
  });

  // A delivery retried after a failure mid-call is covered in test/unit/shard.test.ts (locally an eviction
  // waits for the call in progress, so it never fails one here).
  it("shards evicted in the middle of a stream lose nothing and duplicate nothing", { timeout: 30_000 }, async () => {
    const room = freshRoom();
    const sockets = await clients(relay, room, 15, "websocket only");
    const seen = sockets.map((s) => collect(s, "tick"));
    for (let i = 0; i < 40; i++) {
      sockets[0].emit("tick", i);
      if (i === 15) await relay.evictRoom(`${room}#1`);
      if (i === 25) void relay.evictRoom(`${room}#2`); // while deliveries are under way
      await sleep(10);
    }
    const expected = Array.from({ length: 40 }, (_, i) => [i]);
    await until(() => seen.slice(1).every((s) => s.length >= 40), 15_000);
    await sleep(300);
    sockets.slice(1).forEach((_, i) => expect(seen[i + 1]).toEqual(expected));
    closeAll();
  });

  it("shards that empty get no new connections while others have room, and no broadcasts; they refill when needed", { timeout: 30_000 }, async () => {
    const room = freshRoom();
    const first = await clients(relay, room, 10, "websocket only");
    expect(first.map((s) => shardOf(s.id!))).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    for (const s of first.slice(0, 5)) s.disconnect();
    await until(async () => (await call(relay, "GET", `/rooms/${room}`)).body.connections === 5);
    await sleep(500); // the shard's count reaches the placement object (coalesced, 250 ms)
    const second = await clients(relay, room, 3, "websocket only");
    expect(second.map((s) => shardOf(s.id!))).toEqual([0, 0, 0]); // shard 1 is full: the empty shard 0 refills
    for (const s of first.slice(5)) s.disconnect();
    await until(async () => (await call(relay, "GET", `/rooms/${room}`)).body.connections === 3);
    await sleep(500);
    const third = await clients(relay, room, 2, "websocket only");
    expect(third.map((s) => shardOf(s.id!))).toEqual([0, 0]); // shard 1 emptied: not used while shard 0 has room
    const before = await itemsReceived(relay, room);
    const seen = [...second, ...third].map((s) => collect(s, "hi"));
    second[0].emit("hi");
    await until(() => seen.slice(1).every((s) => s.length === 1));
    const after = await itemsReceived(relay, room);
    expect(after.get(1) ?? 0).toBe(before.get(1) ?? 0);
    // Both shards are listed (shard 1 keeps its counters), only shard 0 has connections.
    const shards = (await call(relay, "GET", `/rooms/${room}/stats`)).body.shards as { shard: number; connections: number }[];
    expect(shards.map((s) => [s.shard, s.connections])).toEqual([[0, 5], [1, 0]]);
    closeAll();
  });

  it("rooms not listed in SHARDED_ROOMS are one object, as before", async () => {
    const [a, b] = await clients(relay, `plain-${Date.now()}`, 2);
    expect(a.id).not.toContain(".");
    const got = next(b, "x");
    a.emit("x", 1);
    expect(await got).toEqual([1]);
    closeAll();
  });
});
