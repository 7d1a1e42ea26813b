/**
 * A Node backend publishing through the REST API with plain fetch, to real
 * socket.io-client sockets connected to the Worker (wrangler, workerd).
 */
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, collect, connect, next, sleep } from "./support/clients";
import { startWorker, type RunningWorker } from "./support/worker";

const API_KEY = "e2e-rest-key";
const API_KEY_NEXT = "e2e-rest-key-next";

let worker: RunningWorker;
let unconfigured: RunningWorker;
beforeAll(async () => {
  [worker, unconfigured] = await Promise.all([
    startWorker({}, { secrets: { API_KEY, API_KEY_NEXT } }),
    // Empty secrets override any local .dev.vars: no key at all.
    startWorker({}, { secrets: { API_KEY: "", API_KEY_NEXT: "" } }),
  ]);
});
afterEach(closeAll);
afterAll(async () => {
  await Promise.all([worker?.stop(), unconfigured?.stop()]);
});

let rooms = 0;
const freshRoom = () => `rest-${Date.now()}-${rooms++}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${worker.url}/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** Every event a socket receives from now on. */
function everything(socket: Socket): unknown[][] {
  const seen: unknown[][] = [];
  socket.onAny((...args: unknown[]) => seen.push(args));
  return seen;
}

describe("REST API from a Node backend (fetch)", () => {
  it("publishes to every socket of the room, over every transport, with binary arguments", async () => {
    const room = freshRoom();
    const sockets = await Promise.all([
      connect(worker.url, room, "websocket only"),
      connect(worker.url, room, "polling only"),
      connect(worker.url, room, "polling → websocket"),
    ]);
    const outsider = await connect(worker.url, freshRoom(), "websocket only");
    const outsiderSaw = everything(outsider);
    const received = Promise.all(sockets.map((s) => next(s, "news")));
    const { status, body } = await call("POST", `/rooms/${room}/emit`, {
      event: "news",
      args: ["hello", { n: 1, png: { $binary: Buffer.from([137, 80, 78, 71]).toString("base64") } }],
    });
    expect(status).toBe(200);
    expect(body).toEqual({ sockets: 3, replayed: false });
    for (const [text, payload] of await received) {
      expect(text).toBe("hello");
      const { n, png } = payload as { n: number; png: Buffer };
      expect(n).toBe(1);
      expect(Buffer.isBuffer(png)).toBe(true);
      expect([...png]).toEqual([137, 80, 78, 71]);
    }
    await sleep(100);
    expect(outsiderSaw).toEqual([]);
  });

  it("targets sub-rooms and namespaces, and leaves out `except`", async () => {
    const room = freshRoom();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => connect(worker.url, room, "websocket only")));
    const chat = await connect(worker.url + "/chat", room, "websocket only");
    expect((await call("POST", `/rooms/${room}/join`, { sockets: [a.id, b.id], join: ["vip"] })).body).toEqual({ sockets: 2 });
    const [aSaw, bSaw, cSaw, chatSaw] = [a, b, c, chat].map(everything);
    expect((await call("POST", `/rooms/${room}/emit`, { event: "vip", rooms: ["vip"], except: [b.id] })).body.sockets).toBe(1);
    expect((await call("POST", `/rooms/${room}/emit`, { event: "chat", namespace: "/chat", args: [1] })).body.sockets).toBe(1);
    expect((await call("POST", `/rooms/${room}/emit`, { event: "void", namespace: "/nobody-here" })).body.sockets).toBe(0);
    await sleep(200);
    expect(aSaw).toEqual([["vip"]]);
    expect(bSaw).toEqual([]);
    expect(cSaw).toEqual([]);
    expect(chatSaw).toEqual([["chat", 1]]);
  });

  it("delivers a retried publish once (Idempotency-Key), and a batch across rooms", async () => {
    const [r1, r2] = [freshRoom(), freshRoom()];
    const [a, b] = await Promise.all([connect(worker.url, r1, "websocket only"), connect(worker.url, r2, "polling only")]);
    const [aSaw, bSaw] = [collect(a, "once"), collect(b, "once")];
    const key = crypto.randomUUID();
    const first = await call("POST", `/rooms/${r1}/emit`, { event: "once", args: ["x"] }, { "Idempotency-Key": key });
    const retry = await call("POST", `/rooms/${r1}/emit`, { event: "once", args: ["x"] }, { "Idempotency-Key": key });
    expect(first.body).toEqual({ sockets: 1, replayed: false });
    expect(retry.body).toEqual({ sockets: 1, replayed: true });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");

    const batch = { items: [{ room: r1, event: "once", args: ["batch"] }, { room: r2, event: "once", args: ["batch"] }] };
    const batchKey = crypto.randomUUID();
    for (let i = 0; i < 2; i++) {
      const { status, body } = await call("POST", "/emit", batch, { "Idempotency-Key": batchKey });
      expect(status).toBe(200);
      expect(body.results).toEqual([
        { room: r1, ok: true, sockets: 1, replayed: i === 1 },
        { room: r2, ok: true, sockets: 1, replayed: i === 1 },
      ]);
    }
    await sleep(300);
    expect(aSaw).toEqual([["x"], ["batch"]]);
    expect(bSaw).toEqual([["batch"]]);
  });

  it("refuses bad requests and delivers nothing", async () => {
    const room = freshRoom();
    const socket = await connect(worker.url, room, "websocket only");
    const saw = everything(socket);
    const refusals: [string, string, unknown, Record<string, string>, number, string][] = [
      ["POST", `/rooms/${room}/emit`, "{oops", {}, 400, "malformed_json"],
      ["POST", `/rooms/${room}/emit`, { args: [1] }, {}, 400, "invalid_request"],
      ["POST", `/rooms/${room}/emit`, { event: "disconnect" }, {}, 400, "reserved_event"],
      ["POST", `/rooms/${room}/emit`, { event: "connect_error" }, {}, 400, "reserved_event"],
      ["POST", `/rooms/${room}/emit`, { event: "e", args: "not an array" }, {}, 400, "invalid_request"],
      ["POST", `/rooms/${room}/emit`, { event: "e", rooms: "vip" }, {}, 400, "invalid_request"],
      ["POST", `/rooms/${room}/emit`, { event: "e", args: [{ $binary: "@@" }] }, {}, 400, "invalid_request"],
      ["POST", `/rooms/${room}/emit`, { event: "e", args: ["x".repeat(1_100_000)] }, {}, 413, "payload_too_large"],
      ["POST", `/rooms/${room}/emit`, { event: "e" }, { Authorization: "Bearer wrong" }, 401, "invalid_api_key"],
      ["POST", `/rooms/${room}/emit`, { event: "e" }, { Authorization: "" }, 401, "missing_api_key"],
      ["POST", "/emit", { items: [{ room, event: "fine" }, { room, event: "removeListener" }] }, {}, 400, "reserved_event"],
      ["POST", "/emit", { items: Array(101).fill({ room, event: "e" }) }, {}, 400, "invalid_request"],
      ["GET", `/rooms/${room}/emit`, undefined, {}, 405, "method_not_allowed"],
      ["POST", `/rooms/${room}/publish`, { event: "e" }, {}, 404, "not_found"],
    ];
    for (const [method, path, body, headers, status, code] of refusals) {
      const answer = await call(method, path, body, headers);
      expect([answer.status, answer.body.error?.code], `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toEqual([status, code]);
      expect(typeof answer.body.error.message).toBe("string");
    }
    await sleep(300);
    expect(saw).toEqual([]);
    expect(socket.connected).toBe(true);
  });

  it("reads presence and sockets, and disconnects sockets", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connect(worker.url, room, "websocket only"), connect(worker.url, room, "polling only")]);
    await connect(worker.url + "/admin", room, "websocket only");
    expect((await call("GET", `/rooms/${room}`)).body).toEqual({ room, connections: 3, sockets: 3, namespaces: { "/": 2, "/admin": 1 } });
    await call("POST", `/rooms/${room}/join`, { sockets: [b.id], join: ["blue"] });
    const { body } = await call("GET", `/rooms/${room}/sockets?rooms=blue`);
    expect(body.sockets).toEqual([
      expect.objectContaining({ id: b.id, namespace: "/", rooms: [b.id, "blue"], handshake: expect.objectContaining({ query: expect.objectContaining({ room }) }) }),
    ]);
    const reason = next(a, "disconnect");
    expect((await call("POST", `/rooms/${room}/disconnect`, { sockets: [a.id] })).body).toEqual({ sockets: 1 });
    expect((await reason)[0]).toBe("io server disconnect");
    expect((await call("GET", `/rooms/${room}`)).body.namespaces).toEqual({ "/": 1, "/admin": 1 });
    expect((await call("POST", `/rooms/${room}/leave`, { leave: ["blue"] })).body).toEqual({ sockets: 1 });
    expect((await call("GET", `/rooms/${room}/sockets?rooms=blue`)).body.sockets).toEqual([]);
  });

  it("serves its OpenAPI description without a key", async () => {
    const response = await fetch(`${worker.url}/v1/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as any;
    expect(document.servers).toEqual([{ url: `${worker.url}/v1` }]);
    expect(document.paths["/rooms/{room}/emit"].post.operationId).toBe("emit");
  });

  it("fails closed when no API key is configured, while Socket.IO keeps working", async () => {
    const response = await fetch(`${unconfigured.url}/v1/rooms/r/emit`, {
      method: "POST",
      headers: { Authorization: "Bearer anything" },
      body: JSON.stringify({ event: "e" }),
    });
    expect(response.status).toBe(403);
    const { error } = (await response.json()) as any;
    expect(error.code).toBe("api_key_not_configured");
    expect(error.message).toMatch(/wrangler secret put API_KEY/);
    const socket = await connect(unconfigured.url, freshRoom(), "polling → websocket");
    expect(socket.connected).toBe(true);
  });

  it("accepts the rotation key", async () => {
    const { status } = await call("GET", `/rooms/${freshRoom()}`, undefined, { Authorization: `Bearer ${API_KEY_NEXT}` });
    expect(status).toBe(200);
  });
});

describe("room stats with real clients", () => {
  it("counts connections by transport, messages in and out, and upgrades, one client per transport mode", async () => {
    const room = freshRoom();
    const upgraded = await connect(worker.url, room, "polling → websocket");
    const webSocket = await connect(worker.url, room, "websocket only");
    const polling = await connect(worker.url, room, "polling only");
    const received = [next(webSocket, "chat"), next(polling, "chat")];
    upgraded.emit("chat", "hello");
    await Promise.all(received);
    const { status, body } = await call("GET", `/rooms/${room}/stats`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ room, connections: 3, transports: { websocket: 2, polling: 1 }, namespaces: { "/": 3 } });
    expect(body.sinceStart).toMatchObject({ connectionsOpened: 3, upgrades: 1, socketsConnected: 3, wakes: 1 });
    expect(body.sinceStart.messagesIn).toBeGreaterThanOrEqual(4); // three CONNECTs and the event
    expect(body.sinceStart.messagesOut).toBeGreaterThanOrEqual(5); // three CONNECT answers and two deliveries
    expect(body.sinceStart.errors).toEqual({ parse_error: 0, message_too_big: 0, ping_timeout: 0, transport_error: 0, connect_timeout: 0, connect_refused: 0, rate_limited: 0, outbox_full: 0 });
    expect(body.perMinute.counts.messagesIn.reduce((a: number, b: number) => a + b)).toBe(body.sinceStart.messagesIn);
  });
});
