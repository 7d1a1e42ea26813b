import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PING_SLICE, type EngineRoom } from "../../src/room/engine-room";
import { connectSocketIO, openWebSocket, relayRoom, sleep, testRoom } from "./support/clients";

describe("hibernation", () => {
  it("keeps sockets sending, receiving and acking across eviction", async () => {
    const stub = testRoom("hib-1");
    const a = await connectSocketIO(stub);
    const b = await connectSocketIO(stub);
    for (const s of [a, b]) await s.socket.next(); // welcome
    b.socket.send('421["join","blue"]');
    expect(await b.socket.next()).toBe("431[]");
    b.socket.send('422["set-data",{"nick":"bo"}]');
    expect(await b.socket.next()).toBe("432[]");

    await evictDurableObject(stub, { webSockets: "hibernate" });

    // Rooms joined before eviction still route; acks still answer.
    a.socket.send('42["to","blue","news","after eviction"]');
    expect(await b.socket.next()).toBe('42["news","after eviction"]');
    b.socket.send('424["whoami"]');
    const [me] = JSON.parse(((await b.socket.next()) as string).slice(3));
    expect(me).toMatchObject({ id: b.id, rooms: [b.id, "blue"], data: { nick: "bo" } });
    // Server → client ack after eviction.
    a.socket.send('425["ask","still there?"]');
    const question = (await a.socket.next()) as string;
    const id = /^42(\d+)\[/.exec(question)![1];
    a.socket.send(`43${id}["yes"]`);
    expect(await a.socket.next()).toBe('435["yes"]');
  });

  it("relays across eviction in the shipped relay room", async () => {
    const stub = relayRoom("hib-2");
    const a = await connectSocketIO(stub);
    const b = await connectSocketIO(stub);
    await evictDurableObject(stub, { webSockets: "hibernate" });
    a.socket.send('421["msg",1]');
    expect(await a.socket.next()).toBe('431[{"delivered":1}]');
    expect(await b.socket.next()).toBe('42["msg",1]');
  });

  it("delivers the first broadcast after a wake without rebuilding the receivers' sessions", async () => {
    const stub = relayRoom("hib-lazy");
    const clients = await Promise.all([1, 2, 3, 4].map(() => connectSocketIO(stub)));
    await evictDurableObject(stub, { webSockets: "hibernate" });
    clients[0].socket.send('421["msg","woken"]');
    expect(await clients[0].socket.next()).toBe('431[{"delivered":3}]');
    for (const { socket } of clients.slice(1)) expect(await socket.next()).toBe('42["msg","woken"]');
    const inMemory = await runInDurableObject(stub, (instance: EngineRoom) => (instance as any).sessions.size);
    expect(inMemory).toBe(1); // the sender's only
    // A receiver's own event rebuilds its session; the sender is excluded as before.
    clients[2].socket.send('42["msg","from a receiver"]');
    for (const i of [0, 1, 3]) expect(await clients[i].socket.next()).toBe('42["msg","from a receiver"]');
    expect(await runInDurableObject(stub, (instance: EngineRoom) => (instance as any).sessions.size)).toBe(2);
    for (const { socket } of clients) socket.close();
  });

  it("keeps rooms, exceptions and socket lists exact for sockets not rebuilt after a wake", async () => {
    const stub = testRoom("hib-lazy-rooms");
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => connectSocketIO(stub)));
    for (const s of [a, b, c]) await s.socket.next(); // welcome
    for (const s of [b, c]) {
      s.socket.send('421["join","blue"]');
      expect(await s.socket.next()).toBe("431[]");
    }
    await evictDurableObject(stub, { webSockets: "hibernate" });
    // To a room: only its dormant members, the sender left out when it is not in it.
    a.socket.send('42["to","blue","news","to blue"]');
    expect(await b.socket.next()).toBe('42["news","to blue"]');
    expect(await c.socket.next()).toBe('42["news","to blue"]');
    // To a socket id of a dormant socket.
    a.socket.send(`42["to","${c.id}","news","to c"]`);
    expect(await c.socket.next()).toBe('42["news","to c"]');
    await expect(b.socket.next({ timeout: 200 })).rejects.toThrow();
    await expect(a.socket.next({ timeout: 50 })).rejects.toThrow();
    // Server code that lists sockets sees every one of them, rebuilt.
    a.socket.send('421["poll-all",1000]');
    for (const s of [a, b, c]) {
      const vote = (await s.socket.next()) as string;
      const id = /^42(\d+)\[/.exec(vote)![1];
      s.socket.send(`43${id}["${s.id}"]`);
    }
    const [answer] = JSON.parse(((await a.socket.next()) as string).slice(3));
    expect(answer).toEqual({ error: null, responses: [a.id, b.id, c.id].sort() });
    for (const s of [a, b, c]) s.socket.close();
  });

  it("answers pongs in the runtime and keeps answering sockets alive", async () => {
    // pingInterval 300 ms, pingTimeout 200 ms in the unit project.
    const stub = relayRoom("hib-3");
    const alive = await connectSocketIO(stub);
    const pings: string[] = [];
    alive.socket.ws.addEventListener("message", (e) => {
      if (e.data === "2" || e.data === "6") pings.push(e.data as string);
    });
    await sleep(1000);
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await sleep(700);
    // Pings kept coming (from the alarm), each pong answered with a noop by the runtime.
    expect(pings.filter((p) => p === "2").length).toBeGreaterThanOrEqual(3);
    expect(pings.filter((p) => p === "6").length).toBeGreaterThanOrEqual(2);
    const seen = await runInDurableObject(stub, (instance: EngineRoom, state) => {
      const ws = state.getWebSockets()[0];
      // Rounds leave sessions where they are (in their attachments): rebuild them to look.
      (instance as any).restoreSessions();
      const session = (instance as any).sessions.values().next().value;
      return { auto: state.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, jsPong: session.lastPongAt, created: session.createdAt };
    });
    expect(seen.auto).toBeGreaterThan(seen.created);
    expect(seen.jsPong).toBe(seen.created); // no pong ever reached JavaScript
    alive.socket.send('42["still alive"]');
    await sleep(50);
    expect(alive.socket.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("pings every socket of a room larger than one ping slice, and still relays", async () => {
    const stub = relayRoom("hib-5");
    const clients = await Promise.all(Array.from({ length: PING_SLICE + 44 }, () => connectSocketIO(stub)));
    const pings = clients.map(() => 0);
    clients.forEach(({ socket }, i) => socket.ws.addEventListener("message", (e) => e.data === "2" && pings[i]++));
    await sleep(700); // pingInterval 300 ms: at least one round
    clients[0].socket.send('42["msg","after rounds"]');
    expect(await clients.at(-1)!.socket.next()).toBe('42["msg","after rounds"]');
    expect(pings.filter((count) => count === 0)).toEqual([]);
    expect(clients.filter(({ socket }) => socket.ws.readyState !== WebSocket.OPEN)).toEqual([]);
    for (const { socket } of clients) socket.close();
  });

  it("reaps a socket that stops answering pings", async () => {
    const stub = relayRoom("hib-4");
    const { socket } = await openWebSocket(stub, "", false);
    socket.send("40");
    const started = Date.now();
    const { code } = await socket.closed;
    expect(code).toBe(1001);
    // One tick to ping (pingInterval 300 ms), the next one after pingTimeout (200 ms) to reap;
    // the bound leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
