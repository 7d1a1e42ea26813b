import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectSocketIO, openWebSocket, relayRoom, testRoom, type TestSocket } from "./support/clients";

async function answerNext(socket: TestSocket, pattern: RegExp, answer: string): Promise<void> {
  const frame = (await socket.next()) as string;
  const match = pattern.exec(frame);
  if (!match) throw new Error(`unexpected frame ${frame}`);
  socket.send(`43${match[1]}${answer}`);
}

describe("middlewares", () => {
  it("refuse a CONNECT with CONNECT_ERROR before any handler runs", async () => {
    const { socket } = await openWebSocket(testRoom("mw-1"));
    socket.send('40{"deny":true}');
    expect(await socket.next()).toBe('44{"message":"denied by middleware","data":{"reason":"asked"}}');
    await expect(socket.next({ timeout: 200 })).rejects.toThrow(/no frame/); // no "welcome"
    socket.send("40");
    expect(await socket.next()).toMatch(/^40\{"sid"/); // the connection stays usable
  });

  it("run per namespace, async ones included", async () => {
    const { socket } = await openWebSocket(testRoom("mw-2"));
    socket.send("40/private,");
    expect(await socket.next()).toBe('44/private,{"message":"bad token"}');
    socket.send('40/private,{"token":"letmein"}');
    expect(await socket.next()).toMatch(/^40\/private,\{"sid"/);
  });

  it("drop a refused packet and tell the socket's error listeners", async () => {
    const { socket } = await connectSocketIO(testRoom("mw-3"));
    await socket.next(); // welcome
    socket.send('42["forbidden"]');
    expect(await socket.next()).toBe('42["refused","not allowed"]');
    socket.send('421["echo","ok"]');
    expect(await socket.next()).toBe('431["ok"]');
  });
});

describe("handlers and hibernation", () => {
  it("rebuild socket listeners after eviction without re-running connection handlers", async () => {
    const stub = testRoom("hib-api-1");
    const { socket } = await connectSocketIO(stub);
    expect(await socket.next()).toMatch(/^42\["welcome"/);
    socket.send('421["mutate"]');
    expect(await socket.next()).toBe("431[1]");
    await evictDurableObject(stub, { webSockets: "hibernate" });
    socket.send('422["mutate"]'); // the mutation of socket.data was persisted
    expect(await socket.next()).toBe("432[2]");
    socket.send('423["echo",{"after":"wake"}]');
    expect(await socket.next()).toBe('433[{"after":"wake"}]');
    await expect(socket.next({ timeout: 200 })).rejects.toThrow(/no frame/); // no second "welcome"
  });
});

describe("acknowledgements", () => {
  it("time out a server emit the client does not acknowledge", async () => {
    const { socket } = await connectSocketIO(testRoom("ack-1"));
    await socket.next();
    socket.send('421["ask-timeout",100]');
    expect(await socket.next()).toMatch(/^42\d+\["question","quick\?"\]$/); // left unanswered
    expect(await socket.next()).toBe('431[{"error":"operation has timed out"}]');
    socket.send('422["ask-timeout",2000]');
    await answerNext(socket, /^42(\d+)\["question"/, '["yes"]');
    expect(await socket.next()).toBe('432[{"answer":"yes"}]');
  });

  it("collect a broadcast's acknowledgements, with the timeout's error when some are missing", async () => {
    const stub = testRoom("ack-2");
    const [a, b, c] = await Promise.all([connectSocketIO(stub), connectSocketIO(stub), connectSocketIO(stub)]);
    for (const s of [a, b, c]) await s.socket.next();
    a.socket.send('421["poll-all",2000]');
    await answerNext(a.socket, /^42(\d+)\["vote"\]$/, '["a"]');
    await answerNext(b.socket, /^42(\d+)\["vote"\]$/, '["b"]');
    await answerNext(c.socket, /^42(\d+)\["vote"\]$/, '["c"]');
    expect(await a.socket.next()).toBe('431[{"error":null,"responses":["a","b","c"]}]');

    a.socket.send('422["poll-all",200]');
    await answerNext(a.socket, /^42(\d+)\["vote"\]$/, '["a"]');
    await answerNext(b.socket, /^42(\d+)\["vote"\]$/, '["b"]');
    expect(await c.socket.next()).toMatch(/^42\d+\["vote"\]$/); // c stays silent
    expect(await a.socket.next()).toBe('432[{"error":"operation has timed out","responses":["a","b"]}]');
  });
});

describe("fetchSockets", () => {
  it("returns a Promise in a room of one object too, resolved with its sockets", async () => {
    const { socket, id } = await connectSocketIO(testRoom("fetch-kind-1"));
    await socket.next(); // welcome
    socket.send('421["fetch-kind"]');
    expect(JSON.parse(((await socket.next()) as string).slice(3))).toEqual([{ promise: true, ids: [id] }]);
  });
});

describe("cross-room emits", () => {
  it("reach the sockets of another room object", async () => {
    const target = await Promise.all([connectSocketIO(relayRoom("cross-target")), connectSocketIO(relayRoom("cross-target"))]);
    const { socket } = await connectSocketIO(testRoom("cross-source"));
    await socket.next();
    socket.send('421["cross","cross-target",[],"news","from afar"]');
    expect(await socket.next()).toBe("431[2]");
    for (const t of target) expect(await t.socket.next()).toBe('42["news","from afar"]');
  });
});
