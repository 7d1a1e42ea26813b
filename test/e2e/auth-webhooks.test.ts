/**
 * JWT verification of CONNECT and webhooks upstream, wired into the shipped
 * relay room, with real socket.io-client sockets and a real HTTP receiver.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../src/webhooks/signature";
import { closeAll, connect, next, sleep } from "./support/clients";
import { startWorker, TEST_WORKER_CONFIG, type RunningWorker } from "./support/worker";

const JWT_SECRET = "e2e-secret-that-is-at-least-32-bytes-long!";
const WEBHOOK_SECRET = "e2e-webhook-secret";

function jwt(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
const now = () => Math.floor(Date.now() / 1000);

interface Delivery {
  headers: IncomingMessage["headers"];
  body: string;
  json: any;
}

/** A webhook receiver on 127.0.0.1 that records deliveries and answers as told. */
function startReceiver(answer: (delivery: Delivery) => { status: number; body?: unknown; delayMs?: number }) {
  const deliveries: Delivery[] = [];
  const server: HttpServer = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const delivery = { headers: request.headers, body, json: JSON.parse(body) };
    deliveries.push(delivery);
    const { status, body: reply, delayMs } = answer(delivery);
    if (delayMs) await sleep(delayMs);
    response.writeHead(status, { "Content-Type": "application/json" }).end(reply === undefined ? "" : JSON.stringify(reply));
  });
  return new Promise<{ url: string; deliveries: Delivery[]; stop: () => Promise<void> }>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
        deliveries,
        stop: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

afterEach(closeAll);

describe("JWT verification of CONNECT", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    // The test room (server-side handlers) with JWT verification on.
    worker = await startWorker({ JWT_SECRET }, { configPath: TEST_WORKER_CONFIG });
  });
  afterAll(() => worker?.stop());

  const attempt = async (token: string | undefined, room = "team-a", nsp = "") => {
    try {
      const socket = await connect(worker.url + nsp, room, "websocket only", { auth: token ? { token } : {}, reconnection: false });
      return { ok: true as const, socket };
    } catch (error) {
      return { ok: false as const, message: (error as Error).message };
    }
  };

  it("lets a valid token in, with its claims and without keeping the token", async () => {
    const exp = now() + 60;
    const result = await attempt(jwt({ sub: "u1", exp, rooms: ["team-*"] }));
    if (!result.ok) throw new Error(result.message);
    expect(await result.socket.timeout(5000).emitWithAck("claims")).toEqual({ sub: "u1", exp, rooms: ["team-*"] });
    expect((await result.socket.timeout(5000).emitWithAck("whoami")).auth).toEqual({});
  });

  it("refuses a missing, forged, expired or out-of-scope token with a clear message", async () => {
    expect(await attempt(undefined)).toMatchObject({ ok: false, message: "authentication required" });
    expect(await attempt(jwt({ exp: now() + 60 }, "another-secret-that-is-32-bytes-or-more"))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/signature/i),
    });
    expect(await attempt(jwt({ exp: now() - 3600 }))).toMatchObject({ ok: false, message: expect.stringMatching(/expired/i) });
    expect(await attempt(jwt({ exp: now() + 60, rooms: ["team-b"] }), "team-a")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/room/i),
    });
    expect(await attempt(jwt({ exp: now() + 60, namespaces: ["/"] }), "team-a", "/admin")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/namespace/i),
    });
  });

  it("keeps refused clients away from the room's handlers", async () => {
    const member = (await attempt(jwt({ exp: now() + 60 }), "team-c")) as { ok: true; socket: any };
    const before = await member.socket.timeout(5000).emitWithAck("stats");
    expect((await attempt(jwt({ exp: now() - 3600 }), "team-c")).ok).toBe(false);
    expect((await attempt(undefined, "team-c")).ok).toBe(false);
    expect(await member.socket.timeout(5000).emitWithAck("stats")).toEqual(before); // no connection handler ran
  });
});

describe("webhooks", () => {
  let worker: RunningWorker;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let mode: "ok" | "fail" | "slow" = "ok";
  beforeAll(async () => {
    receiver = await startReceiver((delivery) => {
      if (mode === "fail") return { status: 500 };
      if (mode === "slow") return { status: 200, body: { late: true }, delayMs: 3000 };
      return { status: 200, body: delivery.json.type === "event" ? { stored: delivery.json.args[0] } : undefined };
    });
    worker = await startWorker({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET,
      WEBHOOK_EVENTS: "connect,disconnect,order",
      WEBHOOK_TIMEOUT_MS: "500",
      WEBHOOK_RETRIES: "1",
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.stop();
  });

  const waitFor = async (predicate: () => boolean) => {
    for (let i = 0; i < 100 && !predicate(); i++) await sleep(50);
    expect(predicate()).toBe(true);
  };

  it("posts signed connect, event and disconnect deliveries, and the event's answer is the ack", async () => {
    mode = "ok";
    const room = `hooks-${Date.now()}`;
    const [a, b] = await Promise.all([connect(worker.url, room, "websocket only"), connect(worker.url, room, "polling only")]);
    await waitFor(() => receiver.deliveries.filter((d) => d.json.type === "connect" && d.json.room === room).length === 2);

    const relayed = next(b, "order");
    expect(await a.timeout(5000).emitWithAck("order", { sku: 42 })).toEqual({ stored: { sku: 42 } });
    expect(await relayed).toEqual([{ sku: 42 }]); // the relay still runs

    const event = receiver.deliveries.find((d) => d.json.type === "event" && d.json.room === room)!;
    expect(event.json).toMatchObject({ event: "order", namespace: "/", socketId: a.id, args: [{ sku: 42 }] });
    const timestamp = String(event.headers["x-socketio-edge-timestamp"]);
    const signature = String(event.headers["x-socketio-edge-signature"]);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, timestamp, event.body, signature)).toBe(true);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, timestamp, event.body.replace("42", "43"), signature)).toBe(false);

    const id = a.id;
    a.disconnect();
    await waitFor(() =>
      receiver.deliveries.some((d) => d.json.type === "disconnect" && d.json.socketId === id && d.json.reason === "client namespace disconnect"),
    );
  });

  it("never blocks the room when the endpoint fails or hangs", async () => {
    const room = `hooks-fail-${Date.now()}`;
    const [a, b] = await Promise.all([connect(worker.url, room, "websocket only"), connect(worker.url, room, "websocket only")]);
    mode = "fail";
    const relayed = next(b, "order");
    const ack = a.timeout(8000).emitWithAck("order", 1);
    expect(await relayed).toEqual([1]); // delivered at once, whatever the webhook does
    expect(await ack).toMatchObject({ error: expect.any(String) });
    mode = "slow";
    const started = Date.now();
    const relayedAgain = next(b, "chat");
    expect(await a.timeout(5000).emitWithAck("chat", "not webhooked")).toEqual({ delivered: 1 });
    await relayedAgain;
    const slowAck = await a.timeout(8000).emitWithAck("order", 2);
    expect(slowAck).toMatchObject({ error: expect.any(String) }); // timed out (500 ms, one retry)
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
