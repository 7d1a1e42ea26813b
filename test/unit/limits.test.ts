/** Limits that protect the room: each one closes the client over it, and the others go on. */
import { describe, expect, it } from "vitest";
import { DEFAULT_PACKET_RATE, readServerOptions, type Env } from "../../src/config";
import { PacketBucket } from "../../src/engine.io/rate-limit";
import { outboxLimit } from "../../src/engine.io/session";
import { MAX_PACKET_ARGS, MAX_PACKET_DEPTH, packetShapeRefusal } from "../../src/socket.io/packet-limits";
import { env } from "cloudflare:test";
import { MAX_BATCH_ITEMS, MAX_BODY_BYTES } from "../../src/rest/limits";
import { connectSocketIO, pollingHandshake, pollUrl, relayRoom, sleep, TestSocket, worker } from "./support/clients";

function limitedRoom(name: string): DurableObjectStub {
  const ns = (env as unknown as { LIMITED_ROOMS: DurableObjectNamespace }).LIMITED_ROOMS;
  return ns.get(ns.idFromName(name));
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("packet shape, before decoding", () => {
  // Socket.IO packets, as the room decodes them (the Engine.IO "4" already taken off).
  it("counts nesting and arguments outside strings only", () => {
    expect(packetShapeRefusal(`2["e",${nested(MAX_PACKET_DEPTH - 1)}]`)).toBeNull();
    expect(packetShapeRefusal(`2["e",${nested(MAX_PACKET_DEPTH)}]`)).toMatch(/nested deeper than 32/);
    expect(packetShapeRefusal(`2/chat,17[{"a":${"{\"a\":".repeat(40)}1${"}".repeat(40)}}]`)).toMatch(/nested/);
    expect(packetShapeRefusal(`2["e","${"[".repeat(1000)}"]`)).toBeNull();
    expect(packetShapeRefusal(`2["e","\\"${"[".repeat(1000)}"]`)).toBeNull();
    expect(packetShapeRefusal(`2/${"[".repeat(100)},["e"]`)).toBeNull(); // a namespace is not data
    expect(packetShapeRefusal(`2["e"${",1".repeat(MAX_PACKET_ARGS)}]`)).toBeNull();
    expect(packetShapeRefusal(`2["e"${",1".repeat(MAX_PACKET_ARGS + 1)}]`)).toMatch(/more than 1000 arguments/);
    expect(packetShapeRefusal(`3/x,5[${"1,".repeat(MAX_PACKET_ARGS + 1)}1]`)).toMatch(/arguments/);
    expect(packetShapeRefusal(`51-["e",[${"1,".repeat(5000)}1],{"_placeholder":true,"num":0}]`)).toBeNull(); // a long array argument is fine
  });

  it("closes a connection that sends a 200,000-level nested event, at once; the room goes on", async () => {
    const stub = relayRoom("lim-deep");
    const [attacker, a, b] = await Promise.all([1, 2, 3].map(() => connectSocketIO(stub)));
    const started = Date.now();
    attacker.socket.send(`421["e",${nested(200_000)}]`);
    expect(await attacker.socket.closed).toEqual({ code: 1002, reason: "parse error" });
    expect(Date.now() - started).toBeLessThan(1000);
    a.socket.send('421["msg","still here"]');
    expect(await b.socket.next()).toBe('42["msg","still here"]');
    expect(await a.socket.next()).toBe('431[{"delivered":1}]');
    for (const { socket } of [a, b]) socket.close();
  });

  it("relays 1000 arguments, closes at 1001", async () => {
    const stub = relayRoom("lim-args");
    const [attacker, a] = await Promise.all([1, 2].map(() => connectSocketIO(stub)));
    const fits = `42["many"${",0".repeat(MAX_PACKET_ARGS)}]`;
    attacker.socket.send(fits);
    expect(await a.socket.next()).toBe(fits);
    attacker.socket.send(`42["many"${",0".repeat(MAX_PACKET_ARGS + 1)}]`);
    expect((await attacker.socket.closed).code).toBe(1002);
    a.socket.close();
  });
});

describe("binary packets", () => {
  const header = (n: number) => `45${n}-["bin"${Array.from({ length: n }, (_, i) => `,{"_placeholder":true,"num":${i}}`).join("")}]`;

  // Found by the fuzzer: socket.io-parser waited forever for the attachments of "450-[...]" and kept every binary frame after it.
  it("closes a connection whose binary packet announces no attachment", async () => {
    const { socket } = await connectSocketIO(relayRoom("lim-bin-0"));
    socket.send(header(0));
    expect(await socket.closed).toEqual({ code: 1002, reason: "parse error" });
    expect(packetShapeRefusal("50-[\"e\"]")).toMatch(/no attachment/);
    expect(packetShapeRefusal("600-/chat,3[]")).toMatch(/no attachment/);
    expect(packetShapeRefusal("51-[\"e\",{\"_placeholder\":true,\"num\":0}]")).toBeNull();
  });

  it("bounds a packet's attachments together by maxHttpBufferSize", async () => {
    const stub = relayRoom("lim-bin-size");
    const [sender, receiver] = await Promise.all([1, 2].map(() => connectSocketIO(stub)));
    sender.socket.send(header(2));
    sender.socket.send(new Uint8Array(400_000));
    sender.socket.send(new Uint8Array(400_000));
    expect(await receiver.socket.next()).toBe(header(2));
    expect(((await receiver.socket.next()) as ArrayBuffer).byteLength).toBe(400_000);
    expect(((await receiver.socket.next()) as ArrayBuffer).byteLength).toBe(400_000);
    sender.socket.send(header(2));
    sender.socket.send(new Uint8Array(600_000));
    sender.socket.send(new Uint8Array(600_000));
    expect(await sender.socket.closed).toEqual({ code: 1009, reason: "message too big" });
    receiver.socket.close();
  });
});

describe("packet rate", () => {
  it("is a token bucket: a burst, then the sustained rate", () => {
    const bucket = new PacketBucket({ perSecond: 10, burst: 3 }, 0);
    expect([1, 2, 3, 4].map(() => bucket.take(0))).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([true, true, true, false]);
    const off = new PacketBucket({ perSecond: 0, burst: 1 }, 0);
    expect([1, 2, 3].every(() => off.take(0))).toBe(true);
  });

  it("is configured like the other options: var over code over default", () => {
    const env = {} as Env;
    expect(readServerOptions(env).packetRate).toEqual(DEFAULT_PACKET_RATE);
    expect(readServerOptions(env, { maxPacketRate: 5, packetBurst: 7 }).packetRate).toEqual({ perSecond: 5, burst: 7 });
    expect(readServerOptions({ MAX_PACKET_RATE: "0" } as Env, { maxPacketRate: 5 }).packetRate.perSecond).toBe(0);
    expect(() => readServerOptions({ PACKET_BURST: "0" } as Env)).toThrow(/PACKET_BURST must be a positive integer/);
    expect(() => readServerOptions({ MAX_PACKET_RATE: "-1" } as Env)).toThrow(/MAX_PACKET_RATE must be a non-negative integer/);
  });

  it("closes a WebSocket that floods the room (1008 \"rate limited\"); the others keep being served", async () => {
    const stub = limitedRoom("lim-rate-ws"); // 20 packets/s, bursts of 40
    const [flood, a, b] = await Promise.all([1, 2, 3].map(() => connectSocketIO(stub)));
    const started = Date.now();
    let sent = 0;
    const closed = flood.socket.closed.then((close) => ({ ...close, sent }));
    while (flood.socket.ws.readyState === WebSocket.OPEN && Date.now() - started < 5000) {
      flood.socket.send('42["flood"]');
      sent++;
      if (sent % 10 === 0) await sleep(1);
    }
    const close = await closed;
    expect(close).toMatchObject({ code: 1008, reason: "rate limited" });
    // The CONNECT took one token; the burst, then what refilled meanwhile, were relayed.
    expect(close.sent).toBeGreaterThanOrEqual(39);
    let relayed = 0;
    while ((await b.socket.next({ timeout: 300 }).catch(() => null)) === '42["flood"]') relayed++;
    expect(relayed).toBeGreaterThanOrEqual(39);
    expect(relayed).toBeLessThan(39 + 20 * ((Date.now() - started) / 1000) + 1);
    a.socket.send('42["msg","after the flood"]');
    expect(await b.socket.next()).toBe('42["msg","after the flood"]');
    for (const { socket } of [a, b]) socket.close();
  });

  it("counts an upgrade's probes: a flood of 2probe closes the session", async () => {
    const stub = limitedRoom("lim-rate-probe");
    const sid = await pollingHandshake(stub);
    const response = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const probing = new TestSocket(response.webSocket!);
    for (let i = 0; i < 60; i++) probing.send("2probe");
    expect(await probing.closed).toEqual({ code: 1008, reason: "rate limited" });
    expect((await stub.fetch(pollUrl(sid))).status).toBe(400);
  });

  it("answers 429 to a polling POST over the rate and closes that session only", async () => {
    const stub = relayRoom("lim-rate-poll");
    const sid = await pollingHandshake(stub);
    const other = await pollingHandshake(stub);
    const body = Array(DEFAULT_PACKET_RATE.burst + 1).fill("6").join("\x1e");
    const response = await stub.fetch(pollUrl(sid), { method: "POST", body });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({ code: 3, message: "Too many packets" });
    expect((await stub.fetch(pollUrl(sid))).status).toBe(400);
    expect((await stub.fetch(pollUrl(other), { method: "POST", body: "40" })).status).toBe(200);
    expect(await (await stub.fetch(pollUrl(other))).text()).toMatch(/^40\{"sid"/);
  });
});

describe("polling outbox", () => {
  it("is capped at twice maxHttpBufferSize, 2 MB at least", () => {
    expect(outboxLimit(1_000_000)).toBe(2_000_000);
    expect(outboxLimit(10_000_000)).toBe(20_000_000);
    expect(outboxLimit(1000)).toBe(2_000_000);
  });

  it("closes a polling session that stops polling once its outbox passes the cap; other sessions get everything", async () => {
    const stub = relayRoom("lim-outbox");
    const join = async () => {
      const sid = await pollingHandshake(stub);
      await stub.fetch(pollUrl(sid), { method: "POST", body: "40" });
      expect(await (await stub.fetch(pollUrl(sid))).text()).toMatch(/^40/);
      return sid;
    };
    const stalled = await join();
    const polling = await join();
    const sender = await connectSocketIO(stub);
    const ws = await connectSocketIO(stub);
    const big = (i: number) => `42["big",${i},"${"x".repeat(900_000)}"]`;
    const received: string[] = [];
    for (let i = 0; i < 3; i++) {
      sender.socket.send(big(i));
      received.push(await (await stub.fetch(pollUrl(polling))).text());
      expect(await ws.socket.next()).toBe(big(i));
    }
    expect(received).toEqual([0, 1, 2].map(big));
    await sleep(20);
    // 2.7 MB waited for a GET that never came: that session is closed, its next GET gets the close packet.
    const next = await stub.fetch(pollUrl(stalled));
    expect([next.status, await next.text()]).toEqual([200, "1"]);
    expect((await stub.fetch(pollUrl(stalled))).status).toBe(400);
    sender.socket.send('42["small"]');
    expect(await (await stub.fetch(pollUrl(polling))).text()).toBe('42["small"]');
    for (const { socket } of [sender, ws]) socket.close();
  });
});

describe("REST bodies and batches, refused early", () => {
  const api = (path: string, init: RequestInit) =>
    worker.fetch(`http://test/v1${path}`, { ...init, headers: { Authorization: "Bearer test-api-key", ...(init.headers as Record<string, string>) } });

  /** A body that would never end, counting what the server pulled from it. */
  function endlessBody(): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return { body, pulled: () => pulled };
  }

  it("refuses a body whose Content-Length is over 1 MiB before reading any of it", async () => {
    const { body, pulled } = endlessBody();
    const response = await api("/rooms/lim-rest/emit", {
      method: "POST",
      body,
      headers: { "Content-Length": String(MAX_BODY_BYTES + 1) },
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    expect(pulled()).toBeLessThanOrEqual(256 * 1024); // what the runtime may buffer ahead, never the body
  });

  it("stops reading an endless body without Content-Length just past 1 MiB", async () => {
    const { body, pulled } = endlessBody();
    const response = await api("/emit", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(pulled()).toBeLessThan(MAX_BODY_BYTES + 512 * 1024);
  });

  it("refuses a batch of 101 items, delivering none of them", async () => {
    const listener = await connectSocketIO(worker, "&room=lim-batch");
    const items = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({ room: "lim-batch", event: "n", args: [i] }));
    const response = await api("/emit", { method: "POST", body: JSON.stringify({ items }), headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/at most 100 per batch/);
    expect(await listener.socket.next({ timeout: 300 }).catch(() => "nothing")).toBe("nothing");
    listener.socket.close();
  });
});

describe("regressions found by npm run fuzz", () => {
  // A bare "4" decoded to a message without data: counting its size threw, and the POST answered 500.
  // Given as "", socket.io-parser would read it as a CONNECT to "/": it is refused first.
  it("closes, as for a parse error, a connection that sends an empty message", async () => {
    const stub = relayRoom("fuzz-empty-message");
    const sid = await pollingHandshake(stub);
    const response = await stub.fetch(pollUrl(sid), { method: "POST", body: "4" });
    expect(response.status).toBe(200);
    expect((await stub.fetch(pollUrl(sid))).status).toBe(400);
    const { socket } = await connectSocketIO(stub);
    socket.send("4");
    expect(await socket.closed).toEqual({ code: 1002, reason: "parse error" });
  });
});
