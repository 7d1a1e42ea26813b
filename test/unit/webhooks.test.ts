import { describe, expect, it } from "vitest";
import {
  ackValue,
  connectWebhook,
  disconnectWebhook,
  eventWebhook,
  readWebhookConfig,
  signWebhook,
  verifyWebhookSignature,
  WebhookClient,
  type WebhookClientOptions,
  type WebhookConfig,
  type WebhookFetcher,
  type WebhookPayload,
} from "../../src/webhooks";

const SECRET = "whsec-test-0123456789abcdef0123456789";
const URL_ = "https://hooks.test/socketio";
const socket = { room: "r1", namespace: "/", socketId: "s1" };
const stamp = { id: "d-1", timestamp: 1_800_000_000_000 };

const config = (overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url: URL_,
  secret: SECRET,
  events: { connect: true, disconnect: true, allEvents: false, events: new Set(["chat"]) },
  timeoutMs: 5_000,
  retries: 2,
  ...overrides,
});

interface Received {
  request: Request;
  body: string;
}

/** A fetch stub answering with `respond(attemptIndex)`, recording every request. */
function endpoint(respond: (attempt: number, init: RequestInit) => Promise<Response> | Response) {
  const received: Received[] = [];
  const fetcher: WebhookFetcher = async (url, init) => {
    const request = new Request(url, init);
    received.push({ request, body: await request.clone().text() });
    return respond(received.length - 1, init);
  };
  return { received, fetcher };
}

/** A response that never comes: rejects when the request's signal aborts, like fetch does on timeout. */
function hang(init: RequestInit): Promise<Response> {
  return new Promise((_, reject) => {
    const signal = init.signal!;
    signal.addEventListener("abort", () => reject(signal.reason));
  });
}

function client(cfg: WebhookConfig, fetcher: WebhookFetcher, options: WebhookClientOptions = {}) {
  const logs: string[] = [];
  const sleeps: number[] = [];
  const c = new WebhookClient(cfg, fetcher, {
    sleep: async (ms) => void sleeps.push(ms),
    log: (m) => logs.push(m),
    ...options,
  });
  return { client: c, logs, sleeps };
}

const ok = (body: unknown = { ok: true }) => Response.json(body);
const payload = (): WebhookPayload => eventWebhook(socket, "chat", ["hi"], stamp);

// --- signatures ------------------------------------------------------------

describe("signatures", () => {
  it("a delivered request verifies with its headers and raw body", async () => {
    const { received, fetcher } = endpoint(() => ok());
    await client(config(), fetcher).client.send(payload());
    const { request, body } = received[0];
    expect(request.method).toBe("POST");
    expect(request.headers.get("Content-Type")).toBe("application/json");
    expect(request.headers.get("X-Socketio-Edge-Delivery")).toBe("d-1");
    const timestamp = request.headers.get("X-Socketio-Edge-Timestamp");
    const signature = request.headers.get("X-Socketio-Edge-Signature");
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(SECRET, timestamp, body, signature)).toBe(true);
    expect(await verifyWebhookSignature(SECRET, timestamp, new TextEncoder().encode(body), signature)).toBe(true);
  });

  it("matches an independent HMAC-SHA256 over timestamp.body", async () => {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode('1700000000.{"a":1}')));
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await signWebhook(SECRET, 1_700_000_000, '{"a":1}')).toBe("v1=" + hex);
  });

  it("a tampered body, another secret or a garbled header fails", async () => {
    const now = 1_700_000_000;
    const body = JSON.stringify(payload());
    const signature = await signWebhook(SECRET, now, body);
    const verify = (b: string, s: string | null, secret = SECRET, ts: string | null = String(now)) =>
      verifyWebhookSignature(secret, ts, b, s, 300, now);
    expect(await verify(body, signature)).toBe(true);
    expect(await verify(body.replace('"hi"', '"ho"'), signature)).toBe(false);
    expect(await verify(body, signature, "another-secret")).toBe(false);
    expect(await verify(body, null)).toBe(false);
    expect(await verify(body, signature.replace("v1=", "v0="))).toBe(false);
    expect(await verify(body, signature.slice(0, -2))).toBe(false);
    expect(await verify(body, signature, SECRET, null)).toBe(false);
    expect(await verify(body, signature, SECRET, "1700000000.5")).toBe(false);
    expect(await verify(body, signature, "")).toBe(false);
  });

  it("an old (or future) timestamp fails, even with a valid signature", async () => {
    const signedAt = 1_700_000_000;
    const body = "{}";
    const signature = await signWebhook(SECRET, signedAt, body);
    const at = (now: number) => verifyWebhookSignature(SECRET, String(signedAt), body, signature, 300, now);
    expect(await at(signedAt + 299)).toBe(true);
    expect(await at(signedAt + 301)).toBe(false);
    expect(await at(signedAt - 301)).toBe(false);
  });

  it("accepts any of several v1 values (secret rotation)", async () => {
    const signature = await signWebhook(SECRET, 1_700_000_000, "{}");
    const header = `v1=${"0".repeat(64)}, ${signature}`;
    expect(await verifyWebhookSignature(SECRET, "1700000000", "{}", header, 300, 1_700_000_000)).toBe(true);
  });
});

// --- delivery --------------------------------------------------------------

describe("delivery", () => {
  it("retries after a timeout, then succeeds; same delivery id, signed again each attempt", async () => {
    let now = 1_700_000_000_000;
    const { received, fetcher } = endpoint((attempt, init) => (attempt === 0 ? hang(init) : ok({ answer: 42 })));
    const { client: c, logs, sleeps } = client(config({ timeoutMs: 100 }), fetcher, { now: () => (now += 5_000) });
    const outcome = await c.send(payload());
    expect(outcome).toEqual({ delivered: true, status: 200, body: { kind: "json", value: { answer: 42 } } });
    expect(received.length).toBe(2);
    expect(sleeps.length).toBe(1);
    expect(received.map((r) => r.request.headers.get("X-Socketio-Edge-Delivery"))).toEqual(["d-1", "d-1"]);
    expect(received.map((r) => r.request.headers.get("X-Socketio-Edge-Attempt"))).toEqual(["1", "2"]);
    const [first, second] = received.map((r) => r.request.headers.get("X-Socketio-Edge-Timestamp"));
    expect(first).not.toBe(second);
    expect(logs).toEqual([]);
  });

  it("retries network errors, 5xx and 429", async () => {
    const answers = [() => Promise.reject(new TypeError("connection refused")), () => new Response("", { status: 503 }), () => new Response("", { status: 429 }), () => ok()];
    const { received, fetcher } = endpoint((attempt) => answers[attempt]());
    const { client: c } = client(config({ retries: 3 }), fetcher);
    expect((await c.send(payload())).delivered).toBe(true);
    expect(received.length).toBe(4);
  });

  it("does not retry 4xx, nor follow redirects", async () => {
    for (const status of [400, 401, 404, 422, 302]) {
      const { received, fetcher } = endpoint(() => new Response("no", { status, headers: { Location: "https://elsewhere.test/" } }));
      const { client: c, logs } = client(config(), fetcher);
      expect(await c.send(payload())).toEqual({ delivered: false, reason: "rejected", status });
      expect(received.length).toBe(1);
      expect(received[0].request.redirect).toBe("manual");
      expect(logs[0]).toContain(`HTTP ${status}`);
    }
  });

  it("bounds retries, with growing waits", async () => {
    const { received, fetcher } = endpoint(() => new Response("down", { status: 500 }));
    const { client: c, logs, sleeps } = client(config({ retries: 2 }), fetcher, { backoffMs: 100 });
    expect(await c.send(payload())).toEqual({ delivered: false, reason: "exhausted", status: 500 });
    expect(received.length).toBe(3);
    expect(sleeps.length).toBe(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(200);
    expect(sleeps[1]).toBeLessThan(300);
    expect(logs).toEqual([expect.stringContaining("failed after 3 attempts (last: HTTP 500)")]);

    const none = endpoint(() => new Response("down", { status: 500 }));
    await client(config({ retries: 0 }), none.fetcher).client.send(payload());
    expect(none.received.length).toBe(1);
  });

  it("refuses to send without a secret (fails closed), saying so once", async () => {
    const { received, fetcher } = endpoint(() => ok());
    const { client: c, logs } = client(config({ secret: null }), fetcher);
    expect(await c.send(payload())).toEqual({ delivered: false, reason: "unsigned" });
    expect(await c.send(payload())).toEqual({ delivered: false, reason: "unsigned" });
    expect(received.length).toBe(0);
    expect(logs).toEqual([expect.stringContaining("WEBHOOK_SECRET")]);
  });

  it("bounds deliveries in flight and drops the excess at once", async () => {
    const releases: (() => void)[] = [];
    const fetcher: WebhookFetcher = () => new Promise((resolve) => releases.push(() => resolve(ok()))) as Promise<Response>;
    const { client: c, logs } = client(config(), fetcher, { maxInFlight: 32 });
    const pending = Array.from({ length: 32 }, () => c.send(payload()));
    expect(c.inFlight).toBe(32);
    expect(await c.send(payload())).toEqual({ delivered: false, reason: "overloaded" });
    expect(logs).toEqual([expect.stringContaining("32 deliveries in flight")]);

    while (releases.length < 32) await new Promise((r) => setTimeout(r, 1));
    for (const release of releases) release();
    expect((await Promise.all(pending)).every((o) => o.delivered)).toBe(true);
    expect(c.inFlight).toBe(0);
    releases.length = 0;
    const next = c.send(payload());
    while (releases.length < 1) await new Promise((r) => setTimeout(r, 1));
    releases[0]();
    expect((await next).delivered).toBe(true);
  });

  it("never rejects, even on a payload JSON cannot hold", async () => {
    const { received, fetcher } = endpoint(() => ok());
    const { client: c } = client(config(), fetcher);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad = { ...payload(), args: [circular] } as WebhookPayload;
    expect(await c.send(bad)).toEqual({ delivered: false, reason: "unserializable" });
    expect(received.length).toBe(0);
  });

  it("hands each delivery to waitUntil", async () => {
    const { fetcher } = endpoint(() => ok());
    const handed: Promise<unknown>[] = [];
    const { client: c } = client(config(), fetcher, { waitUntil: (p) => handed.push(p) });
    const outcome = c.send(payload());
    expect(handed.length).toBe(1);
    expect(await handed[0]).toEqual(await outcome);
  });
});

// --- responses and acks ----------------------------------------------------

describe("event responses as acks", () => {
  const ackOf = async (response: () => Response) => {
    const { fetcher } = endpoint(response);
    return ackValue(await client(config(), fetcher).client.send(payload()));
  };

  it("the JSON body is the ack, binary values decoded", async () => {
    expect(await ackOf(() => ok({ saved: true }))).toEqual({ saved: true });
    expect(await ackOf(() => ok([1, "two"]))).toEqual([1, "two"]);
    const ack = (await ackOf(() => ok({ file: { $binary: "AQID" } }))) as { file: Uint8Array };
    expect(ack.file).toBeInstanceOf(Uint8Array);
    expect([...ack.file]).toEqual([1, 2, 3]);
  });

  it("an empty body acks with null, a non-JSON or oversized one with an error value", async () => {
    expect(await ackOf(() => new Response(null, { status: 204 }))).toBeNull();
    expect(await ackOf(() => new Response("thanks!", { status: 200 }))).toEqual({ error: "invalid webhook response" });
    const { fetcher } = endpoint(() => ok({ big: "x".repeat(2000) }));
    const outcome = await client(config(), fetcher, { maxResponseBytes: 1000 }).client.send(payload());
    expect(ackValue(outcome)).toEqual({ error: "invalid webhook response" });
  });

  it("a 2xx whose body breaks off counts as delivered, not retried", async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"par'));
        controller.error(new Error("connection reset"));
      },
    });
    const { received, fetcher } = endpoint(() => new Response(broken, { status: 200 }));
    const outcome = await client(config(), fetcher).client.send(payload());
    expect(received.length).toBe(1);
    expect(ackValue(outcome)).toEqual({ error: "invalid webhook response" });
  });

  it("a failed delivery acks with an error value", async () => {
    expect(await ackOf(() => new Response("", { status: 400 }))).toEqual({ error: "webhook failed" });
    expect(ackValue({ delivered: false, reason: "overloaded" })).toEqual({ error: "webhook failed" });
  });
});

// --- payloads and configuration --------------------------------------------

describe("payloads", () => {
  it("have the documented shape", () => {
    expect(connectWebhook(socket, stamp)).toEqual({ type: "connect", id: "d-1", timestamp: stamp.timestamp, room: "r1", namespace: "/", socketId: "s1" });
    expect(disconnectWebhook({ ...socket, claims: { sub: "u" } }, "transport close", stamp)).toEqual({
      type: "disconnect",
      id: "d-1",
      timestamp: stamp.timestamp,
      room: "r1",
      namespace: "/",
      socketId: "s1",
      claims: { sub: "u" },
      reason: "transport close",
    });
  });

  it("encode binary arguments as the REST API does and leave out the ack function", () => {
    const p = eventWebhook(socket, "file", [new Uint8Array([1, 2, 3]), { nested: new Uint8Array([255]).buffer }, () => {}], stamp);
    expect(p.args).toEqual([{ $binary: "AQID" }, { nested: { $binary: "/w==" } }]);
    expect(JSON.parse(JSON.stringify(p)).args).toEqual(p.args);
  });

  it("carry only the documented socket fields", () => {
    const p = connectWebhook({ ...socket, secretStuff: 1 } as typeof socket, stamp);
    expect(Object.keys(p).sort()).toEqual(["id", "namespace", "room", "socketId", "timestamp", "type"]);
  });

  it("get a fresh id per delivery by default", () => {
    expect(connectWebhook(socket).id).not.toBe(connectWebhook(socket).id);
  });
});

describe("readWebhookConfig", () => {
  it("is off without WEBHOOK_URL and has defaults otherwise", () => {
    expect(readWebhookConfig({})).toBeNull();
    const c = readWebhookConfig({ WEBHOOK_URL: URL_, WEBHOOK_SECRET: SECRET + "\n" })!;
    expect(c).toMatchObject({ url: URL_, secret: SECRET, timeoutMs: 5000, retries: 2 });
    const hooks = new WebhookClient(c);
    expect([hooks.wants("connect"), hooks.wants("disconnect"), hooks.wants("event", "chat")]).toEqual([true, true, false]);
  });

  it("reads the event list", () => {
    const hooks = WebhookClient.fromEnv({ WEBHOOK_URL: URL_, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: " chat, typing ,disconnect" })!;
    expect([hooks.wants("connect"), hooks.wants("disconnect"), hooks.wants("event", "chat"), hooks.wants("event", "other")]).toEqual([false, true, true, false]);
    const all = WebhookClient.fromEnv({ WEBHOOK_URL: URL_, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: "*" })!;
    expect([all.wants("connect"), all.wants("event", "anything")]).toEqual([false, true]);
  });

  it("keeps a missing secret for the client to refuse, and throws on malformed values", () => {
    expect(readWebhookConfig({ WEBHOOK_URL: URL_ })?.secret).toBeNull();
    expect(() => readWebhookConfig({ WEBHOOK_URL: "not a url" })).toThrow(/not a URL/);
    expect(() => readWebhookConfig({ WEBHOOK_URL: "http://hooks.test/" })).toThrow(/https/);
    expect(readWebhookConfig({ WEBHOOK_URL: "http://localhost:8000/hook" })?.url).toBe("http://localhost:8000/hook");
    expect(() => readWebhookConfig({ WEBHOOK_URL: URL_, WEBHOOK_RETRIES: "10" })).toThrow(/WEBHOOK_RETRIES/);
    expect(() => readWebhookConfig({ WEBHOOK_URL: URL_, WEBHOOK_TIMEOUT_MS: "0" })).toThrow(/WEBHOOK_TIMEOUT_MS/);
    expect(readWebhookConfig({ WEBHOOK_URL: URL_, WEBHOOK_RETRIES: "0", WEBHOOK_TIMEOUT_MS: "1500" })).toMatchObject({ retries: 0, timeoutMs: 1500 });
  });
});
