/**
 * The real socket.io-client against the Worker running in workerd through
 * wrangler, in each transport mode.
 */
import { WebSocket } from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, collect, connect, connectNamespace, MODES, next, sleep, type Mode } from "./support/clients";
import { startWorker, TEST_WORKER_CONFIG, type RunningWorker } from "./support/worker";

let relay: RunningWorker;
let server: RunningWorker;
beforeAll(async () => {
  [relay, server] = await Promise.all([startWorker(), startWorker({}, { configPath: TEST_WORKER_CONFIG })]);
});
afterEach(closeAll);
afterAll(async () => {
  await Promise.all([relay?.stop(), server?.stop()]);
});

let rooms = 0;
const freshRoom = () => `e2e-${Date.now()}-${rooms++}`;

describe.each(Object.keys(MODES) as Mode[])("%s", (mode) => {
  it("relays events to the other sockets of the room, and acks the sender", async () => {
    const room = freshRoom();
    const [a, b, c] = await Promise.all([connect(relay.url, room, mode), connect(relay.url, room, mode), connect(relay.url, room, "websocket only")]);
    const outsider = await connect(relay.url, freshRoom(), mode);
    const outsiderSaw = collect(outsider, "chat");
    const aSaw = collect(a, "chat");
    const got = Promise.all([next(b, "chat"), next(c, "chat")]);
    const ack = await a.timeout(5000).emitWithAck("chat", { text: "hi" }, [1, 2, 3]);
    expect(ack).toEqual({ delivered: 2 });
    expect(await got).toEqual([
      [{ text: "hi" }, [1, 2, 3]],
      [{ text: "hi" }, [1, 2, 3]],
    ]);
    await sleep(100);
    expect(outsiderSaw).toEqual([]);
    expect(aSaw).toEqual([]);
  });

  it("keeps binary arguments binary", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connect(relay.url, room, mode), connect(relay.url, room, mode)]);
    const got = next(b, "file");
    a.emit("file", Buffer.from([0, 1, 2, 250]), { name: "x.bin", thumb: Buffer.from([9]) });
    const [data, meta] = (await got) as [Buffer, { name: string; thumb: Buffer }];
    expect(Buffer.isBuffer(data)).toBe(true);
    expect([...data]).toEqual([0, 1, 2, 250]);
    expect(meta.name).toBe("x.bin");
    expect([...meta.thumb]).toEqual([9]);
  });

  it("multiplexes namespaces over one connection", async () => {
    const room = freshRoom();
    const a = await connect(relay.url, room, mode);
    const aAdmin = await connectNamespace(a, "/admin"); // same Manager, same Engine.IO connection
    const b = await connect(relay.url, room, mode);
    const bAdmin = await connectNamespace(b, "/admin");
    const bMain = collect(b, "notice");
    const got = next(bAdmin, "notice");
    aAdmin.emit("notice", "admins only");
    expect(await got).toEqual(["admins only"]);
    await sleep(100);
    expect(bMain).toEqual([]);
  });

  it("acks in both directions with server-side handlers", async () => {
    const room = freshRoom();
    const socket = await connect(server.url, room, mode);
    socket.on("question", (question: string, answer: (a: string) => void) => answer(`answer to ${question}`));
    expect(await socket.timeout(5000).emitWithAck("ask", "life")).toBe("answer to life");
  });

  it("disconnects and reconnects", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connect(relay.url, room, mode), connect(relay.url, room, mode)]);
    const firstId = a.id;
    a.disconnect();
    await sleep(100);
    expect(await b.timeout(5000).emitWithAck("ping-all")).toEqual({ delivered: 0 });
    a.connect();
    await next(a, "connect");
    expect(a.id).not.toBe(firstId);
    const got = next(a, "hello");
    expect(await b.timeout(5000).emitWithAck("hello", 1)).toEqual({ delivered: 1 });
    expect(await got).toEqual([1]);
  });

  it("reports a server-side disconnect as such", async () => {
    const socket = await connect(server.url, freshRoom(), mode);
    const reason = next(socket, "disconnect");
    socket.emit("kick");
    expect(await reason).toEqual(["io server disconnect", undefined]);
  });

  it("closes only the connection that sends an oversized message", async () => {
    const room = freshRoom();
    const [big, peer, other] = await Promise.all([connect(relay.url, room, mode), connect(relay.url, room, mode), connect(relay.url, room, mode)]);
    const reason = next(big, "disconnect");
    big.emit("huge", "x".repeat(1_100_000));
    expect((await reason)[0]).toMatch(/transport (close|error)/);
    await next(big, "connect"); // the client reconnects on its own
    const got = next(peer, "after");
    expect(await other.timeout(5000).emitWithAck("after", true)).toEqual({ delivered: 2 }); // big reconnected on its own
    expect(await got).toEqual([true]);
  });

  it("keeps working when the room object is evicted", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connect(relay.url, room, mode), connect(relay.url, room, mode)]);
    await relay.evictRoom(room);
    // WebSocket clients keep their connection; polling clients (whose sessions
    // live in memory) reconnect on their own. Either way the room works again.
    const deadline = Date.now() + 15_000;
    let ack: unknown = null;
    while (Date.now() < deadline) {
      try {
        if (a.connected) ack = await a.timeout(1000).emitWithAck("after-eviction", 1);
        if ((ack as { delivered?: number } | null)?.delivered === 1) break;
      } catch {
        // still reconnecting
      }
      await sleep(100);
    }
    expect(ack).toEqual({ delivered: 1 });
    if (mode === "websocket only") expect(b.io.engine.transport.name).toBe("websocket");
  }, 30_000);
});

describe("garbage frames", () => {
  it("close the raw connection that sent them and leave the room working", async () => {
    const room = freshRoom();
    const [a, b] = await Promise.all([connect(relay.url, room, "websocket only"), connect(relay.url, room, "polling only")]);
    const raw = new WebSocket(relay.url.replace("http", "ws") + `/socket.io/?EIO=4&transport=websocket&room=${room}`);
    await new Promise((resolve) => raw.once("message", resolve)); // open packet
    raw.send("40");
    await new Promise((resolve) => raw.once("message", resolve)); // CONNECT
    const closed = new Promise<number>((resolve) => raw.once("close", resolve));
    raw.send('42["unterminated');
    expect(await closed).toBe(1002);
    const got = next(b, "fine");
    expect(await a.timeout(5000).emitWithAck("fine")).toEqual({ delivered: 1 });
    expect(await got).toEqual([]);
  });
});

describe("cross-room emits", () => {
  it("reach another room's sockets once, even when they are in several targeted sub-rooms", async () => {
    const target = freshRoom();
    const b = await connect(server.url, target, "websocket only");
    const c = await connect(server.url, target, "polling only");
    await b.timeout(5000).emitWithAck("join", "blue");
    await b.timeout(5000).emitWithAck("join", "red");
    await c.timeout(5000).emitWithAck("join", "red");
    const bSaw = collect(b, "news");
    const cSaw = collect(c, "news");
    const a = await connect(server.url, freshRoom(), "websocket only");
    expect(await a.timeout(5000).emitWithAck("cross", target, ["blue", "red"], "news", "hello")).toBe(2);
    await sleep(200);
    expect(bSaw).toEqual([["hello"]]);
    expect(cSaw).toEqual([["hello"]]);
  });
});
