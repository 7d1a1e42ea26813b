import { describe, expect, it } from "vitest";
import { conformanceRoom, connectSocketIO, openWebSocket, pollingHandshake, pollUrl, relayRoom, sleep, testRoom, TestSocket, worker } from "./support/clients";

const room = (name: string) => `&room=${name}`;

describe("WebSocket transport, relay room", () => {
  it("relays an event to the other sockets of the namespace, and acks the sender", async () => {
    const a = await connectSocketIO(worker, room("ws-1"));
    const b = await connectSocketIO(worker, room("ws-1"));
    const c = await connectSocketIO(worker, room("ws-1"));
    const elsewhere = await connectSocketIO(worker, room("ws-1-other"));
    a.socket.send('421["chat",{"text":"hi"},[1,2]]');
    expect(await a.socket.next()).toBe('431[{"delivered":2}]');
    expect(await b.socket.next()).toBe('42["chat",{"text":"hi"},[1,2]]');
    expect(await c.socket.next()).toBe('42["chat",{"text":"hi"},[1,2]]');
    await expect(elsewhere.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
  });

  it("relays binary arguments as attachments", async () => {
    const a = await connectSocketIO(worker, room("ws-2"));
    const b = await connectSocketIO(worker, room("ws-2"));
    a.socket.send('451-["file",{"_placeholder":true,"num":0},"name"]');
    a.socket.send(new Uint8Array([1, 2, 3]));
    expect(await b.socket.next()).toBe('451-["file",{"_placeholder":true,"num":0},"name"]');
    expect(new Uint8Array((await b.socket.next()) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("multiplexes namespaces on one connection and keeps them apart", async () => {
    const a = await connectSocketIO(worker, room("ws-3"));
    a.socket.send('40/admin,{"token":"t"}');
    expect(await a.socket.next()).toMatch(/^40\/admin,\{"sid":"[^"]+"\}$/);
    const b = await connectSocketIO(worker, room("ws-3"), "/admin");
    const main = await connectSocketIO(worker, room("ws-3"));
    a.socket.send('42/admin,["x"]');
    expect(await b.socket.next()).toBe('42/admin,["x"]');
    await expect(main.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
    // Leaving one namespace leaves the connection and the other namespace open.
    a.socket.send("41/admin,");
    b.socket.send('42/admin,["y"]');
    main.socket.send('42["z"]');
    expect(await a.socket.next()).toBe('42["z"]');
  });

  it("closes the connection on garbage and only that connection", async () => {
    const bad = await connectSocketIO(worker, room("ws-4"));
    const good = await connectSocketIO(worker, room("ws-4"));
    const peer = await connectSocketIO(worker, room("ws-4"));
    bad.socket.send('42{"not":"an array"}');
    expect((await bad.socket.closed).code).toBe(1002);
    good.socket.send('42["still-here"]');
    expect(await peer.socket.next()).toBe('42["still-here"]');
    for (const garbage of ["x", "4abc", '42abc["e"]', "45-[]"]) {
      const { socket } = await connectSocketIO(worker, room("ws-4"));
      socket.send(garbage);
      expect((await socket.closed).code, garbage).toBe(1002);
    }
  });

  it("closes a connection that sends a frame over maxHttpBufferSize", async () => {
    const big = await connectSocketIO(worker, room("ws-5"));
    const peer = await connectSocketIO(worker, room("ws-5"));
    big.socket.send('42["big","' + "x".repeat(1_000_001) + '"]');
    expect((await big.socket.closed).code).toBe(1009);
    const other = await connectSocketIO(worker, room("ws-5"));
    other.socket.send('42["fine"]');
    expect(await peer.socket.next()).toBe('42["fine"]');
  });

  it("accepts any namespace (dynamic namespaces)", async () => {
    const { socket } = await openWebSocket(worker, room("ws-6"));
    socket.send("40/anything");
    expect(await socket.next()).toMatch(/^40\/anything,/);
  });

  it("answers CONNECT_ERROR for a namespace the server refuses, and keeps the connection", async () => {
    const { socket } = await openWebSocket(conformanceRoom("ws-6b"));
    socket.send("40/random");
    expect(await socket.next()).toBe('44/random,{"message":"Invalid namespace"}');
    socket.send("40/custom,");
    expect(await socket.next()).toMatch(/^40\/custom,\{"sid"/);
  });

  it("upgrades a polling session to WebSocket", async () => {
    const sid = await pollingHandshake(worker, room("ws-7"));
    await worker.fetch(pollUrl(sid), { method: "POST", body: "40" });
    expect(await (await worker.fetch(pollUrl(sid))).text()).toMatch(/^40/);
    const pending = worker.fetch(pollUrl(sid));
    const response = await worker.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const ws = new TestSocket(response.webSocket!);
    ws.send("2probe");
    expect(await ws.next()).toBe("3probe");
    expect(await (await pending).text()).toBe("6");
    ws.send("5");
    const peer = await connectSocketIO(worker, room("ws-7"));
    peer.socket.send('42["after-upgrade"]');
    expect(await ws.next()).toBe('42["after-upgrade"]');
    expect((await worker.fetch(pollUrl(sid))).status).toBe(400);
  });
});

describe("server API (test room)", () => {
  it("acks in both directions", async () => {
    const stub = testRoom("api-1");
    const { socket } = await connectSocketIO(stub);
    expect(await socket.next()).toMatch(/^42\["welcome","[^"]+"\]$/);
    socket.send('427["ask","color?"]');
    const question = (await socket.next()) as string;
    const match = /^42(\d+)\["question","color\?"\]$/.exec(question);
    expect(match).not.toBeNull();
    socket.send(`43${match![1]}["blue"]`);
    expect(await socket.next()).toBe('437["blue"]');
  });

  it("keeps rooms, data and auth of a socket", async () => {
    const stub = testRoom("api-2");
    const { socket } = await openWebSocket(stub);
    socket.send('40{"token":"abc"}');
    const id = JSON.parse(((await socket.next()) as string).slice(2)).sid;
    await socket.next(); // welcome
    socket.send('421["join","blue"]');
    expect(await socket.next()).toBe("431[]");
    socket.send('422["set-data",{"nick":"ann"}]');
    expect(await socket.next()).toBe("432[]");
    socket.send('423["whoami"]');
    expect(JSON.parse(((await socket.next()) as string).slice(3))).toEqual([
      { id, room: "", rooms: [id, "blue"], data: { nick: "ann" }, auth: { token: "abc" } },
    ]);
  });

  it("emits to a room", async () => {
    const stub = testRoom("api-3");
    const a = await connectSocketIO(stub);
    const b = await connectSocketIO(stub);
    const c = await connectSocketIO(stub);
    for (const s of [a, b, c]) await s.socket.next(); // welcome
    b.socket.send('421["join","blue"]');
    expect(await b.socket.next()).toBe("431[]");
    a.socket.send('42["to","blue","news",1]');
    expect(await b.socket.next()).toBe('42["news",1]');
    await expect(c.socket.next({ timeout: 200 })).rejects.toThrow(/no frame/);
  });

  it("survives a throwing handler", async () => {
    const stub = testRoom("api-4");
    const { socket } = await connectSocketIO(stub);
    await socket.next();
    socket.send('42["throw"]');
    socket.send('421["whoami"]');
    expect(await socket.next()).toMatch(/^431\[/);
  });

  it("disconnects a socket from its namespace on the server's request", async () => {
    const stub = testRoom("api-5");
    const { socket } = await connectSocketIO(stub);
    await socket.next();
    socket.send('42["kick"]');
    expect(await socket.next()).toBe("41");
    // The connection stays open and the namespace can be joined again.
    socket.send("40");
    expect(await socket.next()).toMatch(/^40\{"sid"/);
  });
});

describe("connect timeout", () => {
  it("closes a connection that joins no namespace within connectTimeout", async () => {
    const { socket } = await openWebSocket(relayRoom("timeout-1"));
    const started = Date.now();
    await socket.closed;
    // The unit project runs with connectTimeout 1000 ms (and answers every ping).
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

void sleep;
