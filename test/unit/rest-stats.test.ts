/**
 * GET /v1/rooms/{room}/stats: a room's live connections by transport and
 * namespace and its counters, through the Worker as an operator calls it; the
 * structured log lines of connects, disconnects and errors.
 */
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RoomStatsReport } from "../../src/rest/commands";
import type { RoomStats } from "../../src/room/room-stats";
import { Emitter } from "../../src/sdk";
import { connectSocketIO, openWebSocket, pollingHandshake, pollUrl, relayRoom, sleep, testRoom, worker } from "./support/clients";

const AUTH = { Authorization: "Bearer test-api-key" };

async function stats(room: string): Promise<RoomStatsReport & { room: string }> {
  const response = await SELF.fetch(`http://test/v1/rooms/${room}/stats`, { headers: AUTH });
  expect(response.status).toBe(200);
  return response.json();
}

const join = (room: string, nsp = "/") => connectSocketIO(worker, `&room=${room}`, nsp);

/** Saves the room's counters now (as its quiet timer or alarm would), so that an eviction keeps them. */
const saveStats = (room: string) =>
  runInDurableObject(relayRoom(room), (instance) => (instance as unknown as { stats: RoomStats }).stats.save());

describe("REST API: room stats", () => {
  afterEach(() => vi.restoreAllMocks());

  it("counts connections by transport and namespace, messages in and out per recipient, bytes", async () => {
    const room = "stats-1";
    const [a, b] = [await join(room), await join(room)];
    await join(room, "/chat");
    const sid = await pollingHandshake(worker, `&room=${room}`);
    await worker.fetch(pollUrl(sid), { method: "POST", body: "40" });
    await (await worker.fetch(pollUrl(sid))).text(); // the CONNECT answer
    const before = await stats(room);

    a.socket.send('42["chat","hello"]'); // 18 characters, relayed to b and the polling socket
    expect(await b.socket.next()).toBe('42["chat","hello"]');
    const body = await (await worker.fetch(pollUrl(sid))).text();
    expect(body).toBe('42["chat","hello"]');
    const after = await stats(room);

    expect(after).toMatchObject({
      room,
      connections: 4,
      transports: { websocket: 3, polling: 1 },
      sockets: 4,
      namespaces: { "/": 3, "/chat": 1 },
    });
    expect(after.sinceStart.messagesIn - before.sinceStart.messagesIn).toBe(1);
    expect(after.sinceStart.bytesIn - before.sinceStart.bytesIn).toBe('2["chat","hello"]'.length);
    expect(after.sinceStart.messagesOut - before.sinceStart.messagesOut).toBe(2);
    expect(after.sinceStart.bytesOut - before.sinceStart.bytesOut).toBe(2 * '42["chat","hello"]'.length);
    expect(after.sinceStart).toMatchObject({ connectionsOpened: 4, socketsConnected: 4, wakes: 1 });
    expect(after.perMinute.minutes).toBe(60);
    expect(after.perMinute.counts.messagesIn.at(-1)).toBeGreaterThanOrEqual(1);
    expect(after.startedAt).toBeLessThanOrEqual(Date.now());
  });

  it("counts errors by kind, each closing or refusing one connection", async () => {
    const room = "stats-2";
    const garbage = await join(room);
    garbage.socket.send("4garbage"); // not a Socket.IO packet
    await garbage.socket.closed;
    const big = await join(room);
    big.socket.send("4" + "x".repeat(1_000_001));
    await big.socket.closed;
    const { socket } = await openWebSocket(worker, `&room=${room}`);
    socket.send("40/refused-namespace-" + "x".repeat(300) + ",");
    expect(await socket.next()).toMatch(/^44\//);
    await socket.closed; // and no namespace within CONNECT_TIMEOUT (1 s here)

    const { sinceStart } = await stats(room);
    expect(sinceStart.errors).toMatchObject({ parse_error: 1, message_too_big: 1, connect_refused: 1, connect_timeout: 1 });
    expect(sinceStart.connectionsClosed).toBeGreaterThanOrEqual(3);
  });

  it("keeps counting across eviction: wakes and alarms since start", async () => {
    const room = "stats-3";
    const a = await join(room);
    const b = await join(room);
    a.socket.send('42["n",1]');
    await b.socket.next();
    await sleep(700); // alarms (pingInterval 300 ms here)
    await saveStats(room);
    const before = await stats(room);
    expect(before.sinceStart.alarms).toBeGreaterThan(0);

    await evictDurableObject(relayRoom(room), { webSockets: "hibernate" });
    a.socket.send('42["n",2]');
    await b.socket.next();
    const after = await stats(room);
    expect(after.sinceStart.wakes).toBe(before.sinceStart.wakes + 1);
    expect(after.sinceStart.messagesIn).toBe(before.sinceStart.messagesIn + 1);
    expect(after.sinceStart.alarms).toBeGreaterThanOrEqual(before.sinceStart.alarms);
    expect(after.startedAt).toBe(before.startedAt);
    expect(after.awakeSince).toBeGreaterThan(before.awakeSince);
    expect(after.transports).toEqual({ websocket: 2, polling: 0 });
  });

  it("needs the API key, answers 405 to other methods, and is in the OpenAPI description and the SDK", async () => {
    expect((await SELF.fetch("http://test/v1/rooms/stats-4/stats")).status).toBe(401);
    const post = await SELF.fetch("http://test/v1/rooms/stats-4/stats", { method: "POST", headers: AUTH });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET");
    const openapi = (await (await SELF.fetch("http://test/v1/openapi.json")).json()) as any;
    expect(openapi.paths["/rooms/{room}/stats"].get.operationId).toBe("roomStats");
    expect(openapi.components.schemas.RoomStats.properties.sinceStart.required).toContain("messagesOut");

    await join("stats-4");
    const emitter = new Emitter({ url: "http://test", apiKey: "test-api-key", fetch: (input, init) => SELF.fetch(input, init) });
    const report = await emitter.room("stats-4").stats();
    expect(report).toMatchObject({ room: "stats-4", connections: 1, transports: { websocket: 1, polling: 0 } });
    expect(report.sinceStart.errors.parse_error).toBe(0);
  });

  /** JSON lines the rooms log while `run` runs. */
  async function logLines(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    const capture = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].startsWith("{")) lines.push(JSON.parse(args[0]));
    };
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "warn").mockImplementation(capture);
    await run();
    await sleep(50);
    return lines;
  }

  it("logs errors as JSON lines with room and sid, and connects only when asked to", async () => {
    const room = "stats-5";
    const lines = await logLines(async () => {
      const s = await join(room);
      s.socket.send("4garbage");
      await s.socket.closed;
    });
    // The relay room keeps the default (LOG_CONNECTIONS off).
    expect(lines.filter((line) => line.room === room)).toEqual([{ event: "error", room, sid: expect.any(String), kind: "parse_error", reason: "parse error" }]);
  });

  it("logs connects and disconnects too with logConnections", async () => {
    let id = "";
    const lines = await logLines(async () => {
      const s = await connectSocketIO(testRoom("logs-1"));
      id = s.id;
      s.socket.send("4garbage");
      await s.socket.closed;
    });
    const connect = lines.find((line) => line.event === "connect" && line.socket === id)!;
    const mine = lines.filter((line) => line.sid === connect.sid);
    expect(mine).toEqual([
      { event: "connect", room: connect.room, sid: connect.sid, namespace: "/", socket: id, transport: "websocket" },
      { event: "error", room: connect.room, sid: connect.sid, kind: "parse_error", reason: "parse error" },
      { event: "disconnect", room: connect.room, sid: connect.sid, namespace: "/", socket: id, transport: "websocket", reason: "parse error" },
    ]);
  });
});
