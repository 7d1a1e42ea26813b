import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IdempotencyLog } from "../../src/rest/idempotency";
import type { Server } from "../../src/server/server";
import { connectSocketIO, pollingHandshake, pollUrl, relayRoom, worker } from "./support/clients";

const AUTH = { Authorization: "Bearer test-api-key" };

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`http://test/v1${path}`, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } });
}

async function post<T = any>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await api(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

async function get<T = any>(path: string): Promise<T> {
  const response = await api(path);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** Connects a Socket.IO socket to a top-level room, through the Worker as a client would. */
const join = (room: string, nsp = "/") => connectSocketIO(worker, `&room=${room}`, nsp);

/** The room object's Socket.IO server (protected; tests look inside). */
const serverOf = (instance: unknown) => (instance as { io: Server }).io;

describe("REST API: emit", () => {
  it("emits to every socket of the namespace in the room, and says how many", async () => {
    const [a, b] = [await join("emit-1"), await join("emit-1")];
    const other = await join("emit-1-other");
    const { status, body } = await post("/rooms/emit-1/emit", { event: "news", args: ["hello", { n: 1 }, [true, null]] });
    expect(status).toBe(200);
    expect(body).toEqual({ sockets: 2, replayed: false });
    for (const s of [a, b]) expect(await s.socket.next()).toBe('42["news","hello",{"n":1},[true,null]]');
    await expect(other.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
    // args may be left out.
    expect((await post("/rooms/emit-1/emit", { event: "ping-me" })).body.sockets).toBe(2);
    expect(await a.socket.next()).toBe('42["ping-me"]');
  });

  it("targets sub-rooms and socket ids, and leaves out `except`", async () => {
    const [a, b, c] = [await join("emit-2"), await join("emit-2"), await join("emit-2")];
    expect((await post("/rooms/emit-2/join", { sockets: [a.id, b.id], join: ["vip"] })).body).toEqual({ sockets: 2 });
    expect((await post("/rooms/emit-2/emit", { event: "vip", rooms: ["vip"], except: [b.id] })).body.sockets).toBe(1);
    expect(await a.socket.next()).toBe('42["vip"]');
    expect((await post("/rooms/emit-2/emit", { event: "direct", rooms: [c.id] })).body.sockets).toBe(1);
    expect(await c.socket.next()).toBe('42["direct"]');
    expect((await post("/rooms/emit-2/emit", { event: "most", except: ["vip"] })).body.sockets).toBe(1);
    expect(await c.socket.next()).toBe('42["most"]');
    // Union of rooms, each socket once.
    expect((await post("/rooms/emit-2/emit", { event: "union", rooms: ["vip", a.id, c.id] })).body.sockets).toBe(3);
    await expect(b.socket.next({ timeout: 200 })).resolves.toBe('42["union"]');
  });

  it("emits in a namespace, and reaches 0 sockets of a namespace nobody joined without creating it", async () => {
    const main = await join("emit-3");
    const admin = await join("emit-3", "/admin");
    expect((await post("/rooms/emit-3/emit", { event: "x", namespace: "/admin" })).body.sockets).toBe(1);
    expect(await admin.socket.next()).toBe('42/admin,["x"]');
    expect((await post("/rooms/emit-3/emit", { event: "y", namespace: "admin" })).body.sockets).toBe(1);
    expect(await admin.socket.next()).toBe('42/admin,["y"]');
    expect((await post("/rooms/emit-3/emit", { event: "z", namespace: "/ghost" })).body.sockets).toBe(0);
    expect((await post("/rooms/emit-3/emit", { event: "z", rooms: ["nobody"] })).body.sockets).toBe(0);
    await expect(main.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
    const state = await runInDurableObject(relayRoom("emit-3"), (instance, ctx) => ({
      ghost: serverOf(instance).existing("/ghost"),
      namespaces: [...serverOf(instance).all()].map((n) => n.name).sort(),
      // No Idempotency-Key was sent: no table for them either.
      tables: ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE name LIKE 'rest_%'").toArray(),
    }));
    expect(state).toEqual({ ghost: undefined, namespaces: ["/", "/admin"], tables: [] });
  });

  it("sends {$binary} arguments as binary attachments", async () => {
    const s = await join("emit-4");
    const { body } = await post("/rooms/emit-4/emit", {
      event: "file",
      args: [{ $binary: "AQID" }, { name: "a.bin", parts: [{ $binary: "/w==" }, { $binary: "" }] }],
    });
    expect(body.sockets).toBe(1);
    expect(await s.socket.next()).toBe(
      '453-["file",{"_placeholder":true,"num":0},{"name":"a.bin","parts":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]}]',
    );
    expect([...new Uint8Array((await s.socket.next()) as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect([...new Uint8Array((await s.socket.next()) as ArrayBuffer)]).toEqual([255]);
    expect([...new Uint8Array((await s.socket.next()) as ArrayBuffer)]).toEqual([]);
  });

  it("skips sockets that cannot take a volatile event at once", async () => {
    const ws = await join("emit-6");
    const sid = await pollingHandshake(worker, "&room=emit-6");
    await SELF.fetch(pollUrl(sid), { method: "POST", body: "40" });
    expect(await (await SELF.fetch(pollUrl(sid))).text()).toMatch(/^40\{"sid"/);
    // The polling client has no request pending now: a volatile event skips it, a normal one waits for it.
    expect((await post("/rooms/emit-6/emit", { event: "v", volatile: true })).body.sockets).toBe(1);
    expect((await post("/rooms/emit-6/emit", { event: "n" })).body.sockets).toBe(2);
    expect(await ws.socket.next()).toBe('42["v"]');
    expect(await ws.socket.next()).toBe('42["n"]');
    expect(await (await SELF.fetch(pollUrl(sid))).text()).toBe('42["n"]');
  });

  it("reaches sockets of an object that hibernated, RPC being the first thing it handles on waking", async () => {
    const s = await join("emit-5");
    await post("/rooms/emit-5/join", { join: ["blue"] });
    await evictDurableObject(relayRoom("emit-5"), { webSockets: "hibernate" });
    expect(await get("/rooms/emit-5")).toMatchObject({ sockets: 1, namespaces: { "/": 1 } });
    await evictDurableObject(relayRoom("emit-5"), { webSockets: "hibernate" });
    expect((await post("/rooms/emit-5/emit", { event: "awake", rooms: ["blue"] })).body.sockets).toBe(1);
    expect(await s.socket.next()).toBe('42["awake"]');
  });
});

describe("REST API: Idempotency-Key", () => {
  it("delivers a retried emit once and replays its result", async () => {
    const s = await join("idem-1");
    const first = await post("/rooms/idem-1/emit", { event: "once", args: [1] }, { "Idempotency-Key": "k-1" });
    expect(first.body).toEqual({ sockets: 1, replayed: false });
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await s.socket.next()).toBe('42["once",1]');
    await join("idem-1"); // A new socket does not change the remembered result.
    const retry = await post("/rooms/idem-1/emit", { event: "once", args: [1] }, { "Idempotency-Key": "k-1" });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ sockets: 1, replayed: true });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    await expect(s.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
    // A key is per room: the same key elsewhere is another publish.
    expect((await post("/rooms/idem-1-b/emit", { event: "once", args: [1] }, { "Idempotency-Key": "k-1" })).body.replayed).toBe(false);
  });

  it("refuses a key reused with a different body (422), delivering nothing", async () => {
    const s = await join("idem-2");
    await post("/rooms/idem-2/emit", { event: "a" }, { "Idempotency-Key": "k-2" });
    expect(await s.socket.next()).toBe('42["a"]');
    const reused = await post("/rooms/idem-2/emit", { event: "b" }, { "Idempotency-Key": "k-2" });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("idempotency_key_reused");
    await expect(s.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
  });

  it("remembers keys across hibernation (in the room's storage)", async () => {
    const s = await join("idem-3");
    await post("/rooms/idem-3/emit", { event: "a" }, { "Idempotency-Key": "k-3" });
    expect(await s.socket.next()).toBe('42["a"]');
    await evictDurableObject(relayRoom("idem-3"), { webSockets: "hibernate" });
    expect((await post("/rooms/idem-3/emit", { event: "a" }, { "Idempotency-Key": "k-3" })).body).toEqual({ sockets: 1, replayed: true });
    await expect(s.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
  });

  it("forgets a key after its window, and prunes expired keys", async () => {
    const result = await runInDurableObject(relayRoom("idem-4"), (_instance, ctx) => {
      let now = 1_000_000;
      const log = new IdempotencyLog(ctx.storage.sql, () => now, 10_000);
      const before = log.find("k");
      log.remember("k", { fingerprint: "f", sockets: 3 });
      now += 9_999;
      const within = log.find("k");
      now += 1;
      const after = log.find("k");
      now += 60_000;
      log.remember("other", { fingerprint: "g", sockets: 0 });
      const rows = ctx.storage.sql.exec("SELECT key FROM rest_idempotency_keys").toArray();
      return { before, within, after, rows };
    });
    expect(result).toEqual({ before: null, within: { fingerprint: "f", sockets: 3 }, after: null, rows: [{ key: "other" }] });
  });
});

describe("REST API: batch", () => {
  it("emits many events to many rooms, with a result per item", async () => {
    const [a, b] = [await join("batch-1-a"), await join("batch-1-b")];
    const { status, body } = await post("/emit", {
      items: [
        { room: "batch-1-a", event: "one", args: [1] },
        { room: "batch-1-b", event: "two", args: [{ $binary: "AA==" }] },
        { room: "batch-1-a", event: "three", namespace: "/nobody" },
        { room: "batch-1-empty", event: "four" },
        { room: "batch-1-a", event: "five" },
      ],
    });
    expect(status).toBe(200);
    expect(body.results).toEqual([
      { room: "batch-1-a", ok: true, sockets: 1, replayed: false },
      { room: "batch-1-b", ok: true, sockets: 1, replayed: false },
      { room: "batch-1-a", ok: true, sockets: 0, replayed: false },
      { room: "batch-1-empty", ok: true, sockets: 0, replayed: false },
      { room: "batch-1-a", ok: true, sockets: 1, replayed: false },
    ]);
    // In order within a room.
    expect(await a.socket.next()).toBe('42["one",1]');
    expect(await a.socket.next()).toBe('42["five"]');
    expect(await b.socket.next()).toBe('451-["two",{"_placeholder":true,"num":0}]');
    expect([...new Uint8Array((await b.socket.next()) as ArrayBuffer)]).toEqual([0]);
  });

  it("delivers a retried batch once, item by item", async () => {
    const a = await join("batch-2");
    const items = [
      { room: "batch-2", event: "x", args: [1] },
      { room: "batch-2", event: "x", args: [1] }, // Same content, another position: another publish.
    ];
    const first = await post("/emit", { items }, { "Idempotency-Key": "b-1" });
    expect(first.body.results.map((r: any) => r.replayed)).toEqual([false, false]);
    expect(await a.socket.next()).toBe('42["x",1]');
    expect(await a.socket.next()).toBe('42["x",1]');
    const retry = await post("/emit", { items: [...items, { room: "batch-2", event: "new" }] }, { "Idempotency-Key": "b-1" });
    expect(retry.body.results.map((r: any) => [r.ok, r.replayed])).toEqual([[true, true], [true, true], [true, false]]);
    expect(await a.socket.next()).toBe('42["new"]');
    await expect(a.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
  });
});

describe("REST API: presence and sockets", () => {
  it("counts connections and sockets per namespace", async () => {
    expect(await get("/rooms/presence-0")).toEqual({ room: "presence-0", connections: 0, sockets: 0, namespaces: {} });
    await join("presence-1");
    await join("presence-1");
    await join("presence-1", "/chat");
    expect(await get("/rooms/presence-1")).toEqual({
      room: "presence-1",
      connections: 3,
      sockets: 3,
      namespaces: { "/": 2, "/chat": 1 },
    });
  });

  it("lists sockets with ids, rooms, data and handshake, filtered like fetchSockets", async () => {
    const [a, b] = [await join("sockets-1"), await join("sockets-1")];
    await post("/rooms/sockets-1/join", { sockets: [a.id], join: ["red", "blue"] });
    await runInDurableObject(relayRoom("sockets-1"), (instance) => {
      serverOf(instance).existing("/")!.sockets.get(b.id)!.data = { nick: "bo", avatar: new Uint8Array([9, 8]) };
    });
    const all = await get("/rooms/sockets-1/sockets");
    expect(all.room).toBe("sockets-1");
    const byId = Object.fromEntries(all.sockets.map((s: any) => [s.id, s]));
    expect(byId[a.id]).toMatchObject({ id: a.id, namespace: "/", rooms: [a.id, "red", "blue"] });
    expect(byId[b.id]).toMatchObject({ rooms: [b.id], data: { nick: "bo", avatar: { $binary: "CQg=" } } });
    expect(byId[a.id].handshake).toMatchObject({ query: { EIO: "4", transport: "websocket", room: "sockets-1" }, auth: {} });
    expect((await get("/rooms/sockets-1/sockets?rooms=red")).sockets.map((s: any) => s.id)).toEqual([a.id]);
    expect((await get(`/rooms/sockets-1/sockets?except=red&except=blue`)).sockets.map((s: any) => s.id)).toEqual([b.id]);
    expect((await get(`/rooms/sockets-1/sockets?sockets=${b.id}`)).sockets.map((s: any) => s.id)).toEqual([b.id]);
    expect((await get("/rooms/sockets-1/sockets?namespace=/other")).sockets).toEqual([]);
    expect((await api("/rooms/sockets-1/sockets?room=red")).status).toBe(400);
  });

  it("makes sockets join and leave sub-rooms", async () => {
    const [a, b] = [await join("rooms-1"), await join("rooms-1")];
    expect((await post("/rooms/rooms-1/join", { join: ["all", "news"] })).body.sockets).toBe(2);
    expect((await post("/rooms/rooms-1/leave", { sockets: [b.id], leave: ["news"] })).body.sockets).toBe(1);
    expect((await post("/rooms/rooms-1/emit", { event: "n", rooms: ["news"] })).body.sockets).toBe(1);
    expect(await a.socket.next()).toBe('42["n"]');
    expect((await post("/rooms/rooms-1/leave", { rooms: ["all"], leave: ["all"] })).body.sockets).toBe(2);
    expect((await post("/rooms/rooms-1/emit", { event: "n", rooms: ["all"] })).body.sockets).toBe(0);
  });

  it("disconnects given sockets, or all of a namespace, optionally closing the connection", async () => {
    const [a, b, c] = [await join("kick-1"), await join("kick-1"), await join("kick-1")];
    expect((await post("/rooms/kick-1/disconnect", { sockets: [a.id] })).body).toEqual({ sockets: 1 });
    expect(await a.socket.next()).toBe("41");
    expect((await get("/rooms/kick-1")).sockets).toBe(2);
    expect((await post("/rooms/kick-1/disconnect", { sockets: [b.id], close: true })).body.sockets).toBe(1);
    expect((await b.socket.closed).code).toBe(1000);
    const all = await api("/rooms/kick-1/disconnect", { method: "POST" }); // No body: every socket of "/".
    expect(await all.json()).toEqual({ sockets: 1 });
    expect(await c.socket.next()).toBe("41");
    expect((await get("/rooms/kick-1")).sockets).toBe(0);
  });
});
