/** Cases found by probing the server: heartbeat timing, state limits, memory, big bodies. */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { EngineSession, UPGRADE_TIMEOUT_MS } from "../../src/engine.io/session";
import { connectSocketIO, openWebSocket, pollingHandshake, pollUrl, relayRoom, sleep, testRoom, TestSocket, worker } from "./support/clients";

/** Names of the namespaces that exist in a room object now. */
function namespacesOf(stub: DurableObjectStub): Promise<string[]> {
  const run = runInDurableObject as unknown as (stub: unknown, fn: (instance: { io: { all(): Iterable<{ name: string }> } }) => string[]) => Promise<string[]>;
  return run(stub, (instance) => [...instance.io.all()].map((nsp) => nsp.name));
}

// The unit project runs with pingInterval 300 ms, pingTimeout 200 ms, connectTimeout 1000 ms.

describe("heartbeat", () => {
  it("pings a newcomer within a ping interval after the room was empty", async () => {
    const first = await connectSocketIO(relayRoom("hb-1"));
    first.socket.close();
    await sleep(800); // the room empties and its alarms run out
    const { socket } = await openWebSocket(relayRoom("hb-1"), "", false);
    const started = Date.now();
    socket.send("40");
    expect(await socket.next()).toMatch(/^40/);
    expect(await socket.next({ control: true, timeout: 1000 })).toBe("2");
    expect(Date.now() - started).toBeLessThan(450);
  });

  it("does not reap a client that upgraded after a room-wide ping it never saw", async () => {
    const stub = relayRoom("hb-2");
    const other = await connectSocketIO(stub); // keeps room-wide ping rounds going
    const sid = await pollingHandshake(stub);
    await stub.fetch(pollUrl(sid), { method: "POST", body: "40" });
    await (await stub.fetch(pollUrl(sid))).text();
    await other.socket.next({ control: true, timeout: 1000 }); // a round went out while sid was polling
    const response = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const upgraded = new TestSocket(response.webSocket!);
    upgraded.send("2probe");
    expect(await upgraded.next()).toBe("3probe");
    upgraded.send("5");
    await sleep(1200);
    expect(upgraded.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("pings WebSockets once per interval however many polling sessions wake the object", async () => {
    const stub = relayRoom("hb-3");
    for (let i = 0; i < 4; i++) await pollingHandshake(stub);
    const ws = await connectSocketIO(stub);
    let pings = 0;
    ws.socket.ws.addEventListener("message", (event) => {
      if (event.data === "2") pings++;
    });
    await sleep(1500);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(pings).toBeLessThanOrEqual(6);
  });
});

describe("heartbeat schedule", () => {
  it("never pings a connection before pingInterval after its handshake, whatever wakes the room", async () => {
    const stub = relayRoom("hb-first");
    const old = await connectSocketIO(stub); // keeps room-wide rounds going
    const delays: number[] = [];
    const newcomers: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      await pollingHandshake(stub); // polling deadlines wake the object at other times too
      const { socket } = await openWebSocket(stub, "", false);
      const opened = Date.now();
      socket.send("40");
      newcomers.push(
        socket.next({ control: true, timeout: 1500 }).then(async (connect) => {
          expect(connect).toMatch(/^40/);
          expect(await socket.next({ control: true, timeout: 1500 })).toBe("2");
          delays.push(Date.now() - opened);
          socket.close();
        }),
      );
      await sleep(70);
    }
    await Promise.all(newcomers);
    old.socket.close();
    // Never before pingInterval (300 ms) after the handshake, give or take a few ms of delivery; and
    // well before the client would give up (pingInterval + pingTimeout), with room for a busy machine.
    expect(delays.filter((d) => d < 290)).toEqual([]);
    expect(delays.filter((d) => d > 800)).toEqual([]);
  });

  it("pings an idle hibernated room without rebuilding its sessions", async () => {
    const stub = relayRoom("hb-idle");
    const clients = await Promise.all([1, 2, 3].map(() => connectSocketIO(stub)));
    await sleep(1700); // past connectTimeout: nothing left for the Socket.IO layer to check
    await evictDurableObject(stub, { webSockets: "hibernate" });
    const pings = clients.map(() => 0);
    clients.forEach(({ socket }, i) => socket.ws.addEventListener("message", (e) => e.data === "2" && pings[i]++));
    await sleep(700);
    const run = runInDurableObject as unknown as (stub: unknown, fn: (instance: { sessions: Map<string, unknown> }) => number) => Promise<number>;
    expect(await run(stub, (instance) => instance.sessions.size)).toBe(0);
    expect(pings.filter((count) => count < 2)).toEqual([]);
    // The first message after the rounds restores the room and is relayed.
    clients[0].socket.send('42["msg","after idle rounds"]');
    expect(await clients[2].socket.next()).toBe('42["msg","after idle rounds"]');
    for (const { socket } of clients) socket.close();
  });

  it("keeps the connect deadlines of a hibernated room without rebuilding the sockets that joined a namespace", async () => {
    const stub = relayRoom("hb-deadline");
    const clients = await Promise.all([1, 2, 3].map(() => connectSocketIO(stub)));
    const { socket: silent } = await openWebSocket(stub); // joins no namespace
    const opened = Date.now();
    await evictDurableObject(stub, { webSockets: "hibernate" });
    // Closed at its deadline (connectTimeout 1000 ms) by a room whose sessions are all dormant...
    await silent.closed;
    expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
    // ...which read the others' saved state and rebuilt none of them.
    const run = runInDurableObject as unknown as (stub: unknown, fn: (instance: { sessions: Map<string, unknown> }) => number) => Promise<number>;
    expect(await run(stub, (instance) => instance.sessions.size)).toBe(0);
    clients[0].socket.send('42["msg","after the deadlines"]');
    expect(await clients[1].socket.next()).toBe('42["msg","after the deadlines"]');
    for (const { socket } of clients) socket.close();
  });
});

describe("upgrade race", () => {
  async function probedUpgrade(name: string): Promise<{ stub: DurableObjectStub; sid: string; upgraded: TestSocket }> {
    const stub = relayRoom(name);
    const sid = await pollingHandshake(stub);
    const response = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const upgraded = new TestSocket(response.webSocket!);
    upgraded.send("2probe");
    expect(await upgraded.next()).toBe("3probe");
    return { stub, sid, upgraded };
  }

  it("refuses with 400 a GET that reaches the room just before the upgrade's 5", async () => {
    const { stub, sid, upgraded } = await probedUpgrade("race-1");
    const poll = stub.fetch(pollUrl(sid));
    await sleep(20);
    upgraded.send("5");
    expect((await poll).status).toBe(400);
    upgraded.send("40");
    expect(await upgraded.next()).toMatch(/^40/);
  });

  it("answers once, with a noop, a GET overtaken by its client's close", async () => {
    const stub = relayRoom("race-3");
    const sid = await pollingHandshake(stub);
    expect((await stub.fetch(pollUrl(sid), { method: "POST", body: "1" })).status).toBe(200);
    const overtaken = await stub.fetch(pollUrl(sid));
    expect(overtaken.status).toBe(200);
    expect(await overtaken.text()).toBe("6");
    expect((await stub.fetch(pollUrl(sid))).status).toBe(400);
  });

  /** A GET's body, or "still pending" after `ms` (a pending GET has its headers at once, its body when it ends). */
  function within(ms: number, body: Promise<string>): Promise<string> {
    return Promise.race([body, sleep(ms).then(() => "still pending")]);
  }
  const bodyOf = (response: Promise<Response>) => response.then((r) => r.text());

  it("lets a GET sent while the WebSocket opens carry the replies of the moment, before the probe", async () => {
    const stub = relayRoom("race-4");
    const sid = await pollingHandshake(stub);
    const opened = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const upgrading = new TestSocket(opened.webSocket!);
    const poll = bodyOf(stub.fetch(pollUrl(sid)));
    expect((await stub.fetch(pollUrl(sid), { method: "POST", body: "40" })).status).toBe(200);
    expect(await within(60, poll)).toMatch(/^40\{"sid"/);
    upgrading.send("2probe");
    expect(await upgrading.next()).toBe("3probe");
  });

  it("keeps a polling client's GETs ordinary polls through the probe, ended by a packet or engine.io's 100 ms noop", async () => {
    const stub = relayRoom("race-5");
    const sid = await pollingHandshake(stub);
    const first = bodyOf(stub.fetch(pollUrl(sid))); // the client's poll since its handshake
    const opened = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const upgrading = new TestSocket(opened.webSocket!);
    upgrading.send("2probe");
    expect(await upgrading.next()).toBe("3probe");
    // Not ended at once with a noop: socket.io sends none there, and a client counts what it receives.
    expect(await within(30, first)).toBe("still pending");
    expect((await stub.fetch(pollUrl(sid), { method: "POST", body: "40" })).status).toBe(200);
    expect(await within(60, first)).toMatch(/^40\{"sid"/);
    // Its next GET, crossing the "3probe": not held (a client that polls never polls after "5").
    const next = bodyOf(stub.fetch(pollUrl(sid)));
    expect((await stub.fetch(pollUrl(sid), { method: "POST", body: "40/other," })).status).toBe(200);
    expect(await within(60, next)).toMatch(/^40\/other,\{"sid"/);
    // With nothing to carry, a GET ends with a noop at the next check, and the client sends "5".
    expect(await (await stub.fetch(pollUrl(sid))).text()).toBe("6");
    upgrading.send("5");
    upgrading.send('42["after"]');
    expect((await stub.fetch(pollUrl(sid))).status).toBe(400);
  });

  it("ends a GET during an upgrade with a noop when no 5 follows", async () => {
    const { stub, sid } = await probedUpgrade("race-2");
    const response = await stub.fetch(pollUrl(sid));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("6");
  });

  it("gives an upgrade up when no 5 follows the probe within engine.io's upgrade timeout", () => {
    vi.useFakeTimers();
    try {
      const session = new EngineSession("upgrade-timeout", Date.now(), "polling", {});
      let timeouts = 0;
      session.probeAnswered(() => {
        timeouts++;
        session.abandonUpgrade(); // what the room does (and closes the probing WebSocket)
      });
      vi.advanceTimersByTime(UPGRADE_TIMEOUT_MS - 100);
      expect(timeouts).toBe(0);
      vi.advanceTimersByTime(200);
      expect(timeouts).toBe(1);
      expect(session.probeSent).toBe(false);
      // The 100 ms checks stopped with it: nothing keeps the object awake any more.
      vi.advanceTimersByTime(UPGRADE_TIMEOUT_MS);
      expect(timeouts).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("state that must fit in the attachment", () => {
  it("refuses a handshake with a huge query string", async () => {
    const response = await worker.fetch(`http://test/socket.io/?EIO=4&transport=polling&room=big-q&x=${"a".repeat(5000)}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/Query string/);
  });

  it("refuses a namespace whose auth payload is too large, and keeps the connection", async () => {
    const { socket } = await openWebSocket(relayRoom("big-auth"));
    socket.send(`40{"blob":"${"x".repeat(20_000)}"}`);
    expect(await socket.next()).toMatch(/^44\{"message":"connection state too large/);
    socket.send("40");
    expect(await socket.next()).toMatch(/^40\{"sid"/);
  });

  it("refuses a join that would not fit, joining nothing", async () => {
    const { socket, id } = await connectSocketIO(testRoom("big-join"));
    await socket.next();
    socket.send(`42["join","${"r".repeat(13_000)}"]`);
    socket.send('421["whoami"]');
    const [me] = JSON.parse(((await socket.next()) as string).slice(3));
    expect(me.rooms).toEqual([id]);
  });

  it("keeps what fits up to the budget through hibernation, two-byte characters too", async () => {
    // What does not fit is refused by the budget, never by the runtime's own limit.
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const char of ["r", "€"]) {
      const stub = testRoom(`full-${char === "r" ? "ascii" : "two-byte"}`);
      const { socket, id } = await connectSocketIO(stub);
      await socket.next();
      // Rooms of 500 characters until the attachment is full: the joins that no longer fit are refused.
      for (let i = 0; i < 40; i++) socket.send(`42${i + 1}["join","${i}${char.repeat(500)}"]`);
      socket.send('4299["whoami"]');
      let answer = (await socket.next()) as string;
      while (!answer.startsWith("4399")) answer = (await socket.next()) as string; // the acks of the joins that fit
      const [before] = JSON.parse(answer.slice(4));
      expect(before.rooms.length).toBeGreaterThan(char === "r" ? 10 : 5);
      expect(before.rooms.length).toBeLessThan(41);
      await evictDurableObject(stub, { webSockets: "hibernate" });
      socket.send('422["whoami"]');
      const [after] = JSON.parse(((await socket.next()) as string).slice(3));
      expect(after.id).toBe(id);
      expect(after.rooms).toEqual(before.rooms);
    }
    const logged = errors.mock.calls.map((call) => call.map(String).join(" "));
    errors.mockRestore();
    expect(logged.filter((line) => line.includes("connection state too large")).length).toBeGreaterThan(0);
    expect(logged.filter((line) => !line.includes("connection state too large"))).toEqual([]);
  });
});

describe("memory", () => {
  it("forgets dynamic namespaces once their last socket leaves", async () => {
    const stub = relayRoom("nsp-gc");
    const { socket } = await connectSocketIO(stub);
    for (let i = 0; i < 20; i++) {
      socket.send(`40/tmp-${i},`);
      expect(await socket.next()).toMatch(/^40\/tmp-/);
      socket.send(`41/tmp-${i},`);
    }
    socket.send(`40/${"n".repeat(300)},`);
    expect(await socket.next()).toMatch(/^44\/n+,\{"message":"Invalid namespace"\}$/);
    await sleep(50);
    const names = await namespacesOf(stub);
    expect(names).toEqual(["/"]);
  });

  it("refuses an oversized polling body while reading it", async () => {
    const sid = await pollingHandshake(worker, "&room=big-body");
    const chunk = new TextEncoder().encode("4" + "x".repeat(65_535));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk); // 2.6 MB, no Content-Length
        else controller.close();
      },
    });
    const response = await worker.fetch(pollUrl(sid), { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(sent).toBeLessThan(40);
  });
});

describe("packets", () => {
  it("closes a connection that sends an ack id beyond safe integers", async () => {
    const { socket } = await connectSocketIO(relayRoom("ack-id"));
    socket.send('4299999999999999999999["e"]');
    expect((await socket.closed).code).toBe(1002);
  });
});
