/**
 * Connection state recovery with real socket.io-clients against the Worker in
 * wrangler's local runtime: missed events from other clients, the REST API and
 * server code come back in order, exactly once, with the same socket id.
 */
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, connect, MODES, next, sleep, type Mode } from "./support/clients";
import { startWorker, TEST_WORKER_CONFIG, type RunningWorker } from "./support/worker";
import { WranglerProcess } from "./support/wrangler-process";

const API_KEY = "e2e-recovery-key";
/** Long enough that a client is surely away when the others send. */
const AWAY_MS = 600;

let relay: RunningWorker;
let rooms: RunningWorker;
let shortWindow: RunningWorker;
beforeAll(async () => {
  [relay, rooms, shortWindow] = await Promise.all([
    startWorker({ CONNECTION_STATE_RECOVERY_MS: "60000" }, { secrets: { API_KEY } }),
    startWorker({ CONNECTION_STATE_RECOVERY_MS: "60000" }, { configPath: TEST_WORKER_CONFIG }),
    startWorker({ CONNECTION_STATE_RECOVERY_MS: "300" }),
  ]);
});
afterEach(closeAll);
afterAll(async () => {
  await Promise.all([relay?.stop(), rooms?.stop(), shortWindow?.stop()]);
});

let count = 0;
const freshRoom = () => `recovery-${Date.now()}-${count++}`;

/** Every "msg" the socket gets, without the offset socket.io appends. */
function messages(socket: Socket): unknown[] {
  const seen: unknown[] = [];
  socket.on("msg", (value: unknown, offset: unknown) => {
    expect(typeof offset).toBe("string");
    seen.push(value);
  });
  return seen;
}

/** Cuts the client's transport (as a network loss does); resolves once the client noticed. */
async function loseConnection(socket: Socket): Promise<void> {
  const gone = next(socket, "disconnect");
  socket.io.engine.close();
  await gone;
}

async function restEmit(url: string, room: string, value: unknown): Promise<void> {
  const response = await fetch(`${url}/v1/rooms/${room}/emit`, {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ event: "msg", args: [value] }),
  });
  expect(response.status).toBe(200);
}

async function waitFor(condition: () => boolean, timeout = 5000, state?: () => unknown): Promise<void> {
  const until = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met in time${state ? `: ${JSON.stringify(state())}` : ""}`);
    await sleep(20);
  }
}

/**
 * The state a recovery must keep: the receiver in "blue" with socket.data set, and
 * one "news" from the sender already seen. Returns every "news" it gets.
 */
async function joinBlueWithNews(sender: Socket, receiver: Socket, nick: string): Promise<unknown[]> {
  await receiver.emitWithAck("join", "blue");
  await receiver.emitWithAck("set-data", { nick });
  const news: unknown[] = [];
  receiver.on("news", (value: unknown) => news.push(value));
  sender.emit("to", "blue", "news", "before");
  await waitFor(() => news.length === 1);
  return news;
}

const away = { reconnectionDelay: AWAY_MS, reconnectionDelayMax: AWAY_MS, randomizationFactor: 0 };

describe.each(Object.keys(MODES) as Mode[])("connection state recovery (%s)", (mode) => {
  it("gives back the socket id and every missed event, in order, once", async () => {
    const room = freshRoom();
    const sender = await connect(relay.url, room, mode);
    const receiver = await connect(relay.url, room, mode, away);
    expect(receiver.recovered).toBe(false);
    const got = messages(receiver);
    sender.emit("msg", "before");
    await waitFor(() => got.length === 1);
    const id = receiver.id;

    await loseConnection(receiver);
    const back = next(receiver, "connect", 10_000);
    for (let i = 1; i <= 3; i++) await sender.emitWithAck("msg", `away-${i}`);
    await restEmit(relay.url, room, "away-rest");
    await back;
    expect(receiver.recovered).toBe(true);
    expect(receiver.id).toBe(id);
    sender.emit("msg", "after");
    await waitFor(() => got.length === 6);
    await sleep(100);
    expect(got).toEqual(["before", "away-1", "away-2", "away-3", "away-rest", "after"]);
  });
});

describe("connection state recovery", () => {
  it("keeps sub-rooms and socket.data, and replays server-code emits", async () => {
    const room = freshRoom();
    const sender = await connect(rooms.url, room, "websocket only");
    const receiver = await connect(rooms.url, room, "websocket only", away);
    const news = await joinBlueWithNews(sender, receiver, "bo");

    await loseConnection(receiver);
    const back = next(receiver, "connect", 10_000);
    sender.emit("to", "blue", "news", "away");
    sender.emit("to", "red", "news", "not for blue");
    await back;
    expect(receiver.recovered).toBe(true);
    const me = (await receiver.emitWithAck("whoami")) as { id: string; rooms: string[]; data: unknown };
    expect(me.rooms).toEqual([receiver.id, "blue"]);
    expect(me.data).toEqual({ nick: "bo" });
    await waitFor(() => news.length === 2);
    expect(news).toEqual(["before", "away"]);
  });

  it("replays emits from another room (io.room) sent while the client was away", async () => {
    const room = freshRoom();
    const receiver = await connect(rooms.url, room, "polling only", away);
    await receiver.emitWithAck("join", "blue");
    const sender = await connect(rooms.url, freshRoom(), "websocket only");
    const news: unknown[] = [];
    receiver.on("news", (value: unknown) => news.push(value));
    expect(await sender.emitWithAck("cross", room, ["blue"], "news", "first")).toBe(1);
    await waitFor(() => news.length === 1);

    await loseConnection(receiver);
    const back = next(receiver, "connect", 10_000);
    await sender.emitWithAck("cross", room, ["blue"], "news", "while away");
    await back;
    expect(receiver.recovered).toBe(true);
    await waitFor(() => news.length === 2);
    expect(news).toEqual(["first", "while away"]);
  });

  it("skips the namespace's middlewares for a recovered socket (skipMiddlewares, socket.io's default)", async () => {
    const room = freshRoom();
    let attempts = 0;
    // The room's middleware refuses `deny: true`: only the first CONNECT passes it.
    const auth = (cb: (data: object) => void) => cb({ deny: attempts++ > 0 });
    const sender = await connect(rooms.url, room, "websocket only");
    const receiver = await connect(rooms.url, room, "websocket only", { ...away, auth });
    const news: unknown[] = [];
    receiver.on("news", (value: unknown) => news.push(value));
    await receiver.emitWithAck("join", "blue");
    sender.emit("to", "blue", "news", "before");
    await waitFor(() => news.length === 1);
    await loseConnection(receiver);
    const back = next(receiver, "connect", 10_000);
    await back;
    expect(attempts).toBe(2);
    expect(receiver.recovered).toBe(true);
  });

  it("recovers after the room object was evicted while the client was away", async () => {
    const room = freshRoom();
    const sender = await connect(relay.url, room, "websocket only");
    const receiver = await connect(relay.url, room, "websocket only", away);
    const got = messages(receiver);
    sender.emit("msg", 1);
    await waitFor(() => got.length === 1);

    await loseConnection(receiver);
    const back = next(receiver, "connect", 10_000);
    await sender.emitWithAck("msg", 2);
    await relay.evictRoom(room);
    await sender.emitWithAck("msg", 3);
    await back;
    expect(receiver.recovered).toBe(true);
    await waitFor(() => got.length === 3);
    expect(got).toEqual([1, 2, 3]);
  });

  it("recovers a polling-only client whose room object was evicted while it was connected", { timeout: 30_000 }, async () => {
    const room = freshRoom();
    const sender = await connect(rooms.url, room, "websocket only");
    // Slow to come back, so that what is sent after the eviction can only reach it as a replay.
    const receiver = await connect(rooms.url, room, "polling only", { reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0 });
    const id = receiver.id;
    // Rooms and data set while connected: the live session row follows them.
    const news = await joinBlueWithNews(sender, receiver, "po");

    const lost = next(receiver, "disconnect", 20_000);
    const back = next(receiver, "connect", 25_000);
    await rooms.evictRoom(room); // the polling session lived only in the object's memory
    sender.emit("to", "blue", "news", "after the eviction");
    await lost;
    sender.emit("to", "blue", "news", "while it is away");
    await back;
    expect(receiver.recovered).toBe(true);
    expect(receiver.id).toBe(id);
    await waitFor(() => news.length === 3, 5000, () => news);
    expect(news).toEqual(["before", "after the eviction", "while it is away"]);
    const me = (await receiver.emitWithAck("whoami")) as { rooms: string[]; data: unknown };
    expect(me.rooms).toEqual([id, "blue"]);
    expect(me.data).toEqual({ nick: "po" });
  });

  it("keeps offsets right across several disconnects in a row", async () => {
    const room = freshRoom();
    const sender = await connect(relay.url, room, "polling → websocket");
    const receiver = await connect(relay.url, room, "polling → websocket", away);
    const id = receiver.id;
    const got = messages(receiver);
    const expected: unknown[] = [];
    sender.emit("msg", "start");
    expected.push("start");
    await waitFor(() => got.length === 1);
    for (let round = 1; round <= 3; round++) {
      await loseConnection(receiver);
      const back = next(receiver, "connect", 10_000);
      for (let i = 0; i < 2; i++) {
        await sender.emitWithAck("msg", `r${round}-${i}`);
        expected.push(`r${round}-${i}`);
      }
      await back;
      expect(receiver.recovered).toBe(true);
      expect(receiver.id).toBe(id);
      await waitFor(() => got.length === expected.length);
    }
    await sleep(100);
    expect(got).toEqual(expected);
  });

  it("is a new connection once the window has passed", async () => {
    const room = freshRoom();
    const sender = await connect(shortWindow.url, room, "websocket only");
    const receiver = await connect(shortWindow.url, room, "websocket only", away);
    const got = messages(receiver);
    sender.emit("msg", 1);
    await waitFor(() => got.length === 1);
    const id = receiver.id;
    await loseConnection(receiver);
    await sender.emitWithAck("msg", "missed for good");
    await next(receiver, "connect", 10_000);
    expect(receiver.recovered).toBe(false);
    expect(receiver.id).not.toBe(id);
    sender.emit("msg", 2);
    await waitFor(() => got.length === 2);
    expect(got).toEqual([1, 2]);
  });

  it("is a new connection for an unknown session or offset, never an error", async () => {
    const room = freshRoom();
    const stranger = await connect(relay.url, room, "websocket only", { auth: { pid: "no-such-session", offset: "zzzz" } });
    expect(stranger.recovered).toBe(false);
    const odd = await connect(relay.url, room, "polling only", { auth: { pid: 42, offset: ["x"] } });
    expect(odd.recovered).toBe(false);
    const got = messages(odd);
    stranger.emit("msg", "hello");
    await waitFor(() => got.length === 1);
  });
});

/** Back only once the runtime is up again (an attempt during the restart fails and is retried). */
const backAfterRestart = { reconnectionDelay: 3000, reconnectionDelayMax: 3000, randomizationFactor: 0 };

describe("connection state recovery across a restart of the runtime", () => {
  let runtime: WranglerProcess;
  beforeAll(async () => {
    runtime = await WranglerProcess.start({ CONNECTION_STATE_RECOVERY_MS: "60000", API_KEY });
  }, 90_000);
  afterAll(async () => {
    await runtime?.dispose();
  });

  it("gives a client that was away during the restart everything it missed", { timeout: 90_000 }, async () => {
    const room = freshRoom();
    const sender = await connect(runtime.url, room, "websocket only");
    const receiver = await connect(runtime.url, room, "polling → websocket", backAfterRestart);
    const id = receiver.id;
    const got = messages(receiver);
    sender.emit("msg", "before");
    await waitFor(() => got.length === 1);

    await loseConnection(receiver);
    const back = next(receiver, "connect", 60_000).then(() => Date.now());
    await sender.emitWithAck("msg", "before the restart");
    await runtime.restart();
    const restarted = Date.now();
    await restEmit(runtime.url, room, "after the restart");
    expect(await back).toBeGreaterThanOrEqual(restarted - 1000); // not back before the runtime was
    expect(receiver.recovered).toBe(true);
    expect(receiver.id).toBe(id);
    await waitFor(() => got.length === 3, 5000, () => got);
    expect(got).toEqual(["before", "before the restart", "after the restart"]);
  });

  it("recovers a polling-only client that was connected when the runtime restarted", { timeout: 90_000 }, async () => {
    const room = freshRoom();
    const sender = await connect(runtime.url, room, "websocket only");
    const receiver = await connect(runtime.url, room, "polling only", backAfterRestart);
    const id = receiver.id;
    const got = messages(receiver);
    await sender.emitWithAck("msg", "before");
    await waitFor(() => got.length === 1);

    // No disconnect reaches the room: its sessions go with the runtime.
    const back = next(receiver, "connect", 60_000);
    await runtime.restart();
    await restEmit(runtime.url, room, "after the restart");
    await back;
    expect(receiver.recovered).toBe(true);
    expect(receiver.id).toBe(id);
    await waitFor(() => got.length === 2, 5000, () => got);
    expect(got).toEqual(["before", "after the restart"]);
  });
});
