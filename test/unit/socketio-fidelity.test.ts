import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readServerOptions, type Env } from "../../src/config";
import { decodeAttachment } from "../../src/engine.io/attachment";
import type { ConnectionState } from "../../src/server/types";
import { keptHeaders, MAX_HANDSHAKE_HEADERS_JSON, parseQuery } from "../../src/server/handshake";
import { connectSocketIO, openWebSocket, relayRoom, socketIOStyleRoom, testRoom, TestSocket } from "./support/clients";

const HANDSHAKE = "http://test/socket.io/?EIO=4&transport=";

/** The JSON of the ack `43<id>[...]` a socket receives next. */
async function ackOf(socket: TestSocket): Promise<unknown[]> {
  const frame = (await socket.next()) as string;
  const match = /^43(?:\/[^,]*,)?\d+(\[.*)$/s.exec(frame);
  if (!match) throw new Error("expected an ack, got " + frame);
  return JSON.parse(match[1]);
}

describe("listeners registered the socket.io way", () => {
  it("throw at once under strictListeners, with the fix in the message", async () => {
    const { socket } = await connectSocketIO(testRoom("strict-1"), "", "/legacy");
    const frame = (await socket.next()) as string;
    expect(frame).toMatch(/^42\/legacy,\["listener-refused","socket\.on\(\\"echo\\"\) was called outside io\.onSocket\(\)/);
    expect(frame).toContain("io.onSocket((socket) => { socket.on(...) })");
  });

  it("are never silently gone after hibernation: the connection is closed and the client's reconnect runs them again", async () => {
    const stub = socketIOStyleRoom("legacy-1");
    const { socket, id } = await connectSocketIO(stub);
    expect(await socket.next()).toBe(`42["hello","${id}"]`);
    socket.send('421["echo","before"]');
    expect(await socket.next()).toBe('431["before"]');
    const marked = await runInDurableObject(stub, (_room, state) =>
      state.getWebSockets().map((ws) => decodeAttachment<ConnectionState>(ws.deserializeAttachment() as string).state.sockets["/"].unrebuiltListeners),
    );
    expect(marked).toEqual([true]);

    await evictDurableObject(stub, { webSockets: "hibernate" });
    socket.send('422["echo","after"]');
    // Not an event that silently goes nowhere: the connection closes, as when a socket.io server restarts.
    expect((await socket.closed).reason).toBe("server close");

    const again = await connectSocketIO(stub);
    expect(await again.socket.next()).toBe(`42["hello","${again.id}"]`); // "connection" ran for the new socket
    again.socket.send('423["echo","again"]');
    expect(await again.socket.next()).toBe('433["again"]');
  });

  it("registered in onSocket keep working across hibernation without a reconnect", async () => {
    const stub = testRoom("onsocket-1");
    const { socket } = await connectSocketIO(stub);
    await socket.next(); // welcome
    await evictDurableObject(stub, { webSockets: "hibernate" });
    socket.send('421["echo","after"]');
    expect(await socket.next()).toBe('431["after"]');
  });
});

describe("allowRequest", () => {
  it("refuses a polling handshake with 403 and engine.io's body, before any session exists", async () => {
    const stub = testRoom("allow-1");
    const cases: [string, string][] = [
      ["&refuse", "Forbidden"],
      ["&refuse=banned", "banned"],
      ["&slow-refuse", "not now"],
    ];
    for (const [query, message] of cases) {
      const response = await stub.fetch(HANDSHAKE + "polling" + query);
      expect(response.status, query).toBe(403);
      expect(await response.json(), query).toEqual({ code: 4, message });
    }
    expect(await runInDurableObject(stub, (room) => (room as unknown as { sessions: Map<string, unknown> }).sessions.size)).toBe(0);
    expect((await stub.fetch(HANDSHAKE + "polling")).status).toBe(200);
  });

  it("refuses a WebSocket handshake as engine.io does (400, the message as text)", async () => {
    const response = await testRoom("allow-2").fetch(HANDSHAKE + "websocket&refuse=banned", { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(400);
    expect(response.webSocket).toBeNull();
    expect(await response.text()).toBe("banned");
  });

  it("takes socket.io's callback form in serverSettings(), async", async () => {
    const stub = socketIOStyleRoom("allow-3");
    const refused = await stub.fetch(HANDSHAKE + "polling&deny=go%20away");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ code: 4, message: "go away" });
    expect((await stub.fetch(HANDSHAKE + "polling")).status).toBe(200);
  });
});

describe("namespaces", () => {
  it("refuse an undeclared namespace in a room, as socket.io", async () => {
    const { socket } = await openWebSocket(testRoom("nsp-1"));
    socket.send("40/undeclared,");
    expect(await socket.next()).toBe('44/undeclared,{"message":"Invalid namespace"}');
    socket.send("40/second,");
    expect(await socket.next()).toMatch(/^40\/second,\{"sid"/);
  });

  it("stay dynamic in the shipped relay", async () => {
    const { socket } = await openWebSocket(relayRoom("nsp-2"));
    socket.send("40/anything,");
    expect(await socket.next()).toMatch(/^40\/anything,\{"sid"/);
  });
});

describe("handshake", () => {
  const headers = { Upgrade: "websocket", Cookie: "session=abc; theme=dark", Origin: "https://app.example", "User-Agent": "test-agent" };

  async function open(stub: DurableObjectStub, query = "") {
    const response = await stub.fetch(HANDSHAKE + "websocket&t=PQR" + query, { headers });
    const socket = new TestSocket(response.webSocket!);
    await socket.next(); // open
    return socket;
  }

  it("has every field of socket.io's, the query as sent and all headers", async () => {
    const socket = await open(testRoom("hs-1"), "&a=1&a=2&b=x");
    socket.send('40{"token":"t"}');
    await socket.next(); // CONNECT
    await socket.next(); // welcome
    socket.send('421["handshake"]');
    const [handshake] = (await ackOf(socket)) as any[];
    expect(Object.keys(handshake).sort()).toEqual(["address", "auth", "headers", "issued", "query", "secure", "time", "url", "xdomain"]);
    expect(handshake.url).toBe("/socket.io/?EIO=4&transport=websocket&t=PQR&a=1&a=2&b=x");
    expect(handshake.query).toEqual({ EIO: "4", transport: "websocket", t: "PQR", a: ["1", "2"], b: "x" });
    expect(handshake.headers).toMatchObject({ cookie: "session=abc; theme=dark", origin: "https://app.example", "user-agent": "test-agent" });
    expect(handshake.xdomain).toBe(true);
    expect(handshake.secure).toBe(false);
    expect(handshake.auth).toEqual({ token: "t" });
    expect(handshake.time).toBe(new Date(handshake.issued).toString());
    expect(Math.abs(handshake.issued - Date.now())).toBeLessThan(5000);
  });

  it("is the same for a later namespace of the connection, also after hibernation", async () => {
    const stub = testRoom("hs-2");
    const socket = await open(stub);
    socket.send("40");
    await socket.next();
    await socket.next(); // welcome
    socket.send('421["handshake"]');
    const [main] = (await ackOf(socket)) as any[];
    await evictDurableObject(stub, { webSockets: "hibernate" });
    socket.send('40/second,{"n":2}');
    expect(await socket.next()).toMatch(/^40\/second,/);
    socket.send('42/second,2["handshake"]');
    const [second] = (await ackOf(socket)) as any[];
    const { time: _t, issued: _i, auth: _a, ...shared } = main;
    expect(second).toMatchObject(shared);
    expect(second.auth).toEqual({ n: 2 });
    socket.send('423["handshake"]');
    expect(await ackOf(socket)).toEqual([main]);
  });

  it("keeps headers within a bound, cookie first", () => {
    const big = new Headers({ "x-a": "a".repeat(3000), cookie: "c".repeat(2000), "x-b": "b".repeat(500) });
    const kept = keptHeaders(big);
    expect(Object.keys(kept).sort()).toEqual(["cookie", "x-b"]);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(MAX_HANDSHAKE_HEADERS_JSON);
    expect(keptHeaders(new Headers({ "X-Socketio-Edge-Room": "r", accept: "*/*" }))).toEqual({ accept: "*/*" });
    expect(parseQuery("/socket.io/")).toEqual({});
  });
});

describe("binary arguments", () => {
  it("reach handlers as Buffers over WebSocket", async () => {
    const { socket } = await connectSocketIO(testRoom("bin-1"));
    await socket.next(); // welcome
    socket.send('452-1["binary-kinds",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}},"text"]');
    socket.send(new Uint8Array([1, 2, 3]));
    socket.send(new Uint8Array([4]));
    expect(await ackOf(socket)).toEqual([["Buffer(1,2,3)", { nested: "Buffer(4)" }, "string"]]);
  });

  it("reach handlers as Buffers over polling (base64)", async () => {
    const stub = testRoom("bin-2");
    const sid = JSON.parse((await (await stub.fetch(HANDSHAKE + "polling")).text()).slice(1)).sid;
    const url = `${HANDSHAKE}polling&sid=${sid}`;
    await stub.fetch(url, { method: "POST", body: "40" });
    await (await stub.fetch(url)).text(); // CONNECT and welcome
    await stub.fetch(url, { method: "POST", body: '451-3["binary-kinds",{"_placeholder":true,"num":0}]\x1ebAQID' });
    let body = "";
    for (let i = 0; i < 3 && !body.includes("433"); i++) body += await (await stub.fetch(url)).text();
    expect(body).toContain('433[["Buffer(1,2,3)"]]');
  });
});

describe("options in code", () => {
  const env = (vars: Partial<Env>) => vars as Env;

  it("give way to a var that is set (the unit project sets PING_INTERVAL=300)", async () => {
    const response = await socketIOStyleRoom("options-1").fetch(HANDSHAKE + "polling");
    expect(JSON.parse((await response.text()).slice(1)).pingInterval).toBe(300); // 4000 in the room's code
  });

  it("apply when no var is set; a var that is set wins", () => {
    const settings = {
      pingInterval: 2000,
      pingTimeout: 1500,
      maxHttpBufferSize: 5000,
      connectTimeout: 3000,
      cors: { origin: ["https://a.example"] },
      connectionStateRecovery: {},
      strictListeners: true,
    };
    expect(readServerOptions(env({}), settings)).toMatchObject({
      pingInterval: 2000,
      pingTimeout: 1500,
      maxHttpBufferSize: 5000,
      connectTimeout: 3000,
      corsOrigins: ["https://a.example"],
      connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true },
      strictListeners: true,
    });
    const overridden = readServerOptions(env({ PING_INTERVAL: "25000", CORS_ORIGINS: "*", STRICT_LISTENERS: "off" }), settings);
    expect(overridden).toMatchObject({ pingInterval: 25_000, pingTimeout: 1500, corsOrigins: "*", strictListeners: false });
    expect(readServerOptions(env({}))).toMatchObject({ pingInterval: 25_000, corsOrigins: "*", connectionStateRecovery: null, strictListeners: false });
  });
});
