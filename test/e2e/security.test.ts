/**
 * Claims of docs/security.md that an attacker can test from outside, tried the
 * way an attacker would: real socket.io-clients and raw HTTP against the Worker
 * in wrangler's local runtime.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, connect, next, sleep, type Mode } from "./support/clients";
import { startWorker, TEST_WORKER_CONFIG, type RunningWorker } from "./support/worker";

const JWT_SECRET = "e2e-security-secret-at-least-32-bytes!";
const WEBHOOK_SECRET = "e2e-security-webhook-secret";
const API_KEY = "e2e-security-api-key";

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  return `${body}.${createHmac("sha256", JWT_SECRET).update(body).digest("base64url")}`;
}
const token = (rooms: string[]) => jwt({ sub: "attacker", exp: Math.floor(Date.now() / 1000) + 300, rooms });

let count = 0;
const freshRoom = (prefix: string) => `${prefix}-${Date.now()}-${count++}`;

async function refusal(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected")));
    socket.once("connect_error", (error) => resolve(error.message));
  });
}

afterEach(closeAll);

describe("the room a client is in is the one it asked for, not one it claims in a header", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker({ JWT_SECRET, CONNECTION_STATE_RECOVERY_MS: "60000" }, { configPath: TEST_WORKER_CONFIG });
  });
  afterAll(() => worker?.stop());

  it.each(["polling only", "websocket only"] as Mode[])("ignores a client's X-Socketio-Edge-Room header (%s)", async (mode) => {
    const room = freshRoom("asked");
    const spoofed = freshRoom("spoofed");
    const extraHeaders = { "X-Socketio-Edge-Room": spoofed };
    // A token for the spoofed room only: the header must not make the room believe it is that room.
    const forged = io(worker.url, {
      query: { room },
      transports: mode === "polling only" ? ["polling"] : ["websocket"],
      extraHeaders,
      auth: { token: token([spoofed]) },
      forceNew: true,
      reconnection: false,
    });
    expect(await refusal(forged)).toBe(`token not valid for room "${room}"`);
    forged.close();
    // With a token for its real room, the socket's room is the one in the URL.
    const socket = await connect(worker.url, room, mode, { extraHeaders, auth: { token: token([room]) } });
    expect((await socket.timeout(5000).emitWithAck("whoami")).room).toBe(room);
  });

  it("runs JWT verification on a recovery: a stolen pid and offset without a valid token recover nothing", async () => {
    const room = freshRoom("recover");
    const sender = await connect(worker.url, room, "websocket only", { auth: { token: token([room]) } });
    /** A socket that got one event (so it holds an offset) and then lost its connection, as a network loss does. */
    const victim = async () => {
      const socket = await connect(worker.url, room, "websocket only", { auth: { token: token([room]) }, reconnection: false });
      const got = next(socket, "msg");
      sender.emit("to", socket.id, "msg", "for the victim"); // TestRoom: socket.to(id).emit(...)
      const [, offset] = await got;
      const state = { id: socket.id, pid: (socket as unknown as { _pid?: string })._pid, offset };
      const gone = next(socket, "disconnect");
      socket.io.engine.close();
      await gone;
      return state;
    };
    const stolen = (state: { pid?: string; offset: unknown }, auth: Record<string, unknown>) =>
      io(worker.url, { query: { room }, transports: ["websocket"], auth: { pid: state.pid, offset: state.offset, ...auth }, forceNew: true, reconnection: false });

    const first = await victim();
    expect(typeof first.pid).toBe("string");
    expect(typeof first.offset).toBe("string");
    const noToken = stolen(first, {});
    expect(await refusal(noToken)).toBe("authentication required");
    noToken.close();
    const otherRoom = stolen(await victim(), { token: token(["elsewhere"]) });
    expect(await refusal(otherRoom)).toBe(`token not valid for room "${room}"`);
    otherRoom.close();
    // The same kind of pid and offset with a valid token does recover (so the refusals above were recoveries refused).
    const third = await victim();
    const owner = stolen(third, { token: token([room]) });
    await new Promise((resolve) => owner.once("connect", resolve));
    expect((await owner.timeout(5000).emitWithAck("whoami")).id).toBe(third.id);
    owner.close();
  });
});

describe("session ids route to their own room object only", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker({}, { configPath: TEST_WORKER_CONFIG });
  });
  afterAll(() => worker?.stop());

  const handshake = async (room: string) => {
    const response = await fetch(`${worker.url}/socket.io/?EIO=4&transport=polling&room=${room}`);
    return JSON.parse((await response.text()).slice(1)).sid as string;
  };
  const poll = (sid: string, query = "", body?: string) =>
    fetch(`${worker.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}${query}`, body === undefined ? {} : { method: "POST", body });

  it("refuses a session id whose object part names another room (400, Session ID unknown)", async () => {
    const a = await handshake(freshRoom("sid-a"));
    const b = await handshake(freshRoom("sid-b"));
    const grafted = b.slice(0, 64) + a.slice(64); // room B's object, room A's session
    const response = await poll(grafted);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 1, message: "Session ID unknown" });
  });

  it("refuses a made-up object id in a session id without creating an object (400)", async () => {
    const response = await poll("f".repeat(64) + "made-up");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: number }).code).toBe(1);
  });

  it("keeps a session in its own room whatever room the request names", async () => {
    const room = freshRoom("own");
    const sid = await handshake(room);
    const other = `&room=${freshRoom("other")}`;
    expect(await (await poll(sid, other, "40")).text()).toBe("ok");
    expect(await (await poll(sid, other)).text()).toMatch(/^40\{"sid":/);
    expect(await (await poll(sid, other, '420["whoami"]')).text()).toBe("ok");
    const answer = await (await poll(sid, other)).text();
    expect(JSON.parse(answer.slice(answer.indexOf("[")))[0].room).toBe(room);
  });
});

describe("webhooks on do not open namespaces the room did not declare", () => {
  let worker: RunningWorker;
  let server: HttpServer;
  const deliveries: { type: string; namespace: string; socketId: string }[] = [];
  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let body = "";
      for await (const chunk of request) body += chunk;
      deliveries.push(JSON.parse(body));
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    // Disconnect webhooks on (the default WEBHOOK_EVENTS), in a room class without dynamic namespaces.
    worker = await startWorker({ WEBHOOK_URL: url, WEBHOOK_SECRET }, { configPath: TEST_WORKER_CONFIG });
  });
  afterAll(async () => {
    await worker?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("answers Invalid namespace for an undeclared one, and still posts disconnects of declared ones", async () => {
    const room = freshRoom("hooks-nsp");
    const undeclared = io(`${worker.url}/not-declared`, { query: { room }, transports: ["websocket"], forceNew: true, reconnection: false });
    expect(await refusal(undeclared)).toBe("Invalid namespace");
    undeclared.close();

    const socket = await connect(`${worker.url}/second`, room, "websocket only");
    const id = socket.id;
    socket.disconnect();
    for (let i = 0; i < 100 && !deliveries.some((d) => d.type === "disconnect" && d.socketId === id); i++) await sleep(50);
    expect(deliveries.find((d) => d.type === "disconnect" && d.socketId === id)).toMatchObject({ namespace: "/second" });
    expect(deliveries.some((d) => d.namespace === "/not-declared")).toBe(false);
  });
});

describe("the REST API", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startWorker({ CORS_ORIGINS: "https://app.example" }, { secrets: { API_KEY } });
  });
  afterAll(() => worker?.stop());

  const emit = (headers: Record<string, string>) =>
    fetch(`${worker.url}/v1/rooms/${freshRoom("rest")}/emit`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ event: "news", args: [] }),
    });

  it("refuses a browser on an origin CORS_ORIGINS does not list, even with a valid key (403 forbidden_origin)", async () => {
    const response = await emit({ Authorization: `Bearer ${API_KEY}`, Origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("forbidden_origin");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const allowed = await emit({ Authorization: `Bearer ${API_KEY}`, Origin: "https://app.example" });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  });

  it("refuses a key sent anywhere but the Authorization header", async () => {
    const room = freshRoom("rest-q");
    const inQuery = await fetch(`${worker.url}/v1/rooms/${room}?api_key=${API_KEY}&key=${API_KEY}`);
    expect(inQuery.status).toBe(401);
    const asCookie = await fetch(`${worker.url}/v1/rooms/${room}`, { headers: { Cookie: `api_key=${API_KEY}` } });
    expect(asCookie.status).toBe(401);
    const basic = await fetch(`${worker.url}/v1/rooms/${room}`, { headers: { Authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString("base64")}` } });
    expect(basic.status).toBe(401);
  });
});
