/**
 * A Node backend publishing through the emitter SDK (socketio-edge/emitter) to
 * real socket.io-client sockets connected to the Worker.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Emitter, EmitterError } from "../../src/sdk";
import { closeAll, collect, connect, next, sleep } from "./support/clients";
import { startWorker, type RunningWorker } from "./support/worker";

const API_KEY = "e2e-sdk-key";

interface ServerToClientEvents {
  news: (headline: string, meta: { id: number }) => void;
  file: (name: string, bytes: Uint8Array) => void;
  direct: (text: string) => void;
  once: (n: number) => void;
}

let worker: RunningWorker;
let emitter: Emitter<ServerToClientEvents>;
beforeAll(async () => {
  worker = await startWorker({}, { secrets: { API_KEY } });
  emitter = new Emitter<ServerToClientEvents>({ url: worker.url, apiKey: API_KEY, retryDelay: 10 });
});
afterEach(closeAll);
afterAll(() => worker?.stop());

let rooms = 0;
const freshRoom = () => `sdk-${Date.now()}-${rooms++}`;
const connectTo = (room: string, nsp = "") => connect(worker.url + nsp, room, "websocket only");

function everything(socket: Socket): unknown[][] {
  const seen: unknown[][] = [];
  socket.onAny((...args: unknown[]) => seen.push(args));
  return seen;
}

describe("emitter SDK from a Node backend", () => {
  it("emits like @socket.io/redis-emitter: to, except, of, binary", async () => {
    const room = freshRoom();
    const [a, b, c] = await Promise.all([connectTo(room), connectTo(room), connect(worker.url, room, "polling only")]);
    const chat = await connectTo(room, "/chat");
    const target = emitter.room(room);
    expect(await target.socketsJoin("vip")).toBe(3);
    expect(await target.in(b.id).socketsLeave("vip")).toBe(1);
    const [aSaw, bSaw, cSaw, chatSaw] = [a, b, c, chat].map(everything);

    expect(await target.to("vip").except(c.id).emit("news", "for vip", { id: 1 })).toEqual({ sockets: 1, replayed: false });
    expect(await target.emit("news", "for all", { id: 2 })).toEqual({ sockets: 3, replayed: false });
    expect((await target.of("/chat").emit("direct", "chat only")).sockets).toBe(1);
    const file = next(c, "file");
    expect((await target.to(c.id).emit("file", "a.bin", Buffer.from([1, 2, 3]))).sockets).toBe(1);
    const [name, bytes] = await file;
    expect(name).toBe("a.bin");
    expect(Buffer.isBuffer(bytes) && [...(bytes as Buffer)]).toEqual([1, 2, 3]);

    await sleep(200);
    expect(aSaw).toEqual([["news", "for vip", { id: 1 }], ["news", "for all", { id: 2 }]]);
    expect(bSaw).toEqual([["news", "for all", { id: 2 }]]);
    expect(cSaw.map(([event]) => event)).toEqual(["news", "file"]);
    expect(chatSaw).toEqual([["direct", "chat only"]]);
  });

  it("uses a default room, and reads presence", async () => {
    const room = freshRoom();
    const socket = await connectTo(room);
    await connectTo(room, "/chat");
    const roomEmitter = new Emitter<ServerToClientEvents>({ url: worker.url + "/", apiKey: API_KEY, room });
    const got = next(socket, "news");
    expect((await roomEmitter.emit("news", "default room", { id: 3 })).sockets).toBe(1);
    expect(await got).toEqual(["default room", { id: 3 }]);
    expect(await roomEmitter.info()).toEqual({ room, connections: 2, sockets: 2, namespaces: { "/": 1, "/chat": 1 } });
  });

  it("fetches sockets and acts on each (emit, join, leave, disconnect)", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connectTo(room), connectTo(room)]);
    const target = emitter.room(room);
    await target.to(a.id).socketsJoin(["red", "blue"]);
    const [remote] = await target.in("red").fetchSockets();
    expect(remote.id).toBe(a.id);
    expect(remote.rooms).toEqual(new Set([a.id, "red", "blue"]));
    expect(remote.handshake.query.room).toBe(room);
    expect((await target.except("red").fetchSockets()).map((s) => s.id)).toEqual([b.id]);

    const direct = next(a, "direct");
    await remote.emit("direct", "just you");
    expect(await direct).toEqual(["just you"]);
    await remote.leave("blue");
    await remote.join("green");
    expect((await target.in("green").fetchSockets()).map((s) => [...s.rooms])).toEqual([[a.id, "red", "green"]]);

    const gone = next(a, "disconnect");
    await remote.disconnect();
    expect((await gone)[0]).toBe("io server disconnect");
    expect(await target.disconnectSockets()).toBe(1);
    expect((await target.info()).sockets).toBe(0);
  });

  it("retries a publish whose answer was lost, and it is delivered once", async () => {
    const room = freshRoom();
    const socket = await connectTo(room);
    const saw = collect(socket, "once");
    const keys: (string | null)[] = [];
    let attempts = 0;
    const flaky = new Emitter<ServerToClientEvents>({
      url: worker.url,
      apiKey: API_KEY,
      retryDelay: 10,
      fetch: async (input, init) => {
        keys.push(new Headers(init.headers).get("Idempotency-Key"));
        const response = await fetch(input, init);
        // First attempt: the publish arrived, its answer did not. Second: the server is busy.
        if (++attempts === 1) throw new TypeError("connection reset");
        if (attempts === 2) return new Response(JSON.stringify({ error: { code: "room_unavailable", message: "busy" } }), { status: 503 });
        return response;
      },
    });
    expect(await flaky.room(room).emit("once", 1)).toEqual({ sockets: 1, replayed: true });
    expect(attempts).toBe(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    await sleep(200);
    expect(saw).toEqual([[1]]);
  });

  it("delivers once with a caller's own Idempotency-Key (a redelivered job)", async () => {
    const room = freshRoom();
    const socket = await connectTo(room);
    const saw = collect(socket, "once");
    const job = `job-${room}`;
    expect((await emitter.room(room).idempotencyKey(job).emit("once", 7)).replayed).toBe(false);
    expect((await emitter.room(room).idempotencyKey(job).emit("once", 7)).replayed).toBe(true);
    await sleep(200);
    expect(saw).toEqual([[7]]);
  });

  it("publishes a batch to several rooms", async () => {
    const [r1, r2] = [freshRoom(), freshRoom()];
    const [a, b] = await Promise.all([connectTo(r1), connectTo(r2)]);
    const [aSaw, bSaw] = [everything(a), everything(b)];
    const results = await emitter.batch([
      { room: r1, event: "once", args: [1] },
      { room: r2, event: "news", args: ["batch", { id: 9 }], rooms: [b.id] },
      { room: r2, event: "file", args: ["x", new Uint8Array([5])], namespace: "/nobody" },
    ]);
    expect(results).toEqual([
      { room: r1, ok: true, sockets: 1, replayed: false },
      { room: r2, ok: true, sockets: 1, replayed: false },
      { room: r2, ok: true, sockets: 0, replayed: false },
    ]);
    await sleep(200);
    expect(aSaw).toEqual([["once", 1]]);
    expect(bSaw).toEqual([["news", "batch", { id: 9 }]]);
  });

  it("throws EmitterError for refusals, without retrying them", async () => {
    const room = freshRoom();
    const socket = await connectTo(room);
    const saw = everything(socket);
    let calls = 0;
    const counted = (apiKey: string) =>
      new Emitter({ url: worker.url, apiKey, retryDelay: 10, fetch: (input, init) => (calls++, fetch(input, init)) });

    const reserved = await counted(API_KEY).room(room).emit("connect").catch((e: unknown) => e);
    expect(reserved).toBeInstanceOf(EmitterError);
    expect(reserved).toMatchObject({ status: 400, code: "reserved_event" });
    const unauthorized = await counted("wrong").room(room).emit("x").catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ status: 401, code: "invalid_api_key" });
    const badRoom = await counted(API_KEY).room("no spaces").emit("x").catch((e: unknown) => e);
    expect(badRoom).toMatchObject({ status: 400, code: "invalid_room" });
    expect(calls).toBe(3);
    await sleep(200);
    expect(saw).toEqual([]);
  });
});

describe("emitter SDK package", () => {
  it("builds to plain ES modules that Node runs as they are", async () => {
    const out = await mkdtemp(join(tmpdir(), "socketio-edge-emitter-"));
    try {
      const run = promisify(execFile);
      await run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.emitter.json", "--outDir", out]);
      const room = freshRoom();
      const socket = await connectTo(room);
      const got = next(socket, "news");
      const script = join(out, "publish.mjs");
      await writeFile(
        script,
        `import { Emitter } from "./sdk/index.js";
         const emitter = new Emitter({ url: process.argv[2], apiKey: process.argv[3] });
         const result = await emitter.room(process.argv[4]).emit("news", "from plain node", { id: 4 });
         console.log(JSON.stringify(result));`,
      );
      const { stdout } = await run(process.execPath, [script, worker.url, API_KEY, room]);
      expect(JSON.parse(stdout)).toEqual({ sockets: 1, replayed: false });
      expect(await got).toEqual(["from plain node", { id: 4 }]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
