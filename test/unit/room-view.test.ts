/**
 * The live room view of the relay room (namespace "/_view"): the member list,
 * joins, leaves and upgrades as they happen, the stats on request, and no
 * relay of its traffic.
 */
import { describe, expect, it } from "vitest";
import { openWebSocket, pollingHandshake, pollUrl, relayRoom, TestSocket, type Frame } from "./support/clients";

/** The event name and argument of a view frame (`42/_view,["join",{...}]`). */
function viewEvent(frame: Frame): [string, any] {
  const text = frame as string;
  expect(text.startsWith("42/_view,")).toBe(true);
  const [event, arg] = JSON.parse(text.slice("42/_view,".length));
  return [event, arg];
}

async function member(stub: DurableObjectStub, name?: string): Promise<{ socket: TestSocket; id: string }> {
  const { socket } = await openWebSocket(stub);
  socket.send("40" + (name ? JSON.stringify({ name }) : ""));
  const connect = (await socket.next()) as string;
  return { socket, id: JSON.parse(connect.slice(2)).sid };
}

async function viewer(stub: DurableObjectStub): Promise<{ socket: TestSocket; members: any[] }> {
  const { socket } = await openWebSocket(stub);
  socket.send("40/_view,");
  expect(await socket.next()).toMatch(/^40\/_view,\{"sid"/);
  const [event, members] = viewEvent(await socket.next());
  expect(event).toBe("members");
  return { socket, members };
}

describe("live room view", () => {
  it("lists members with name and transport, then shows joins, upgrades and leaves as they happen", async () => {
    const stub = relayRoom("view-1");
    const ada = await member(stub, "  Ada  ");
    const anonymous = await member(stub);
    const view = await viewer(stub);
    expect(view.members).toEqual([
      { id: ada.id, namespace: "/", name: "Ada", transport: "websocket", connectedAt: expect.any(Number) },
      { id: anonymous.id, namespace: "/", name: null, transport: "websocket", connectedAt: expect.any(Number) },
    ]);

    // A polling client joins, then upgrades.
    const sid = await pollingHandshake(stub);
    await stub.fetch(pollUrl(sid), { method: "POST", body: '40{"name":"Bob"}' });
    const bobId = JSON.parse((await (await stub.fetch(pollUrl(sid))).text()).slice(2)).sid;
    expect(viewEvent(await view.socket.next())).toEqual(["join", { id: bobId, namespace: "/", name: "Bob", transport: "polling", connectedAt: expect.any(Number) }]);
    const pending = stub.fetch(pollUrl(sid));
    const response = await stub.fetch(pollUrl(sid).replace("polling", "websocket"), { headers: { Upgrade: "websocket" } });
    const upgraded = new TestSocket(response.webSocket!);
    upgraded.send("2probe");
    expect(await upgraded.next()).toBe("3probe");
    await (await pending).text();
    upgraded.send("5");
    expect(viewEvent(await view.socket.next())).toEqual(["transport", { id: bobId, transport: "websocket" }]);

    ada.socket.close();
    expect(viewEvent(await view.socket.next())).toEqual(["leave", { id: ada.id, namespace: "/", reason: "transport close" }]);
  });

  it("answers the room's stats on request, built at most once a second for all viewers", async () => {
    const stub = relayRoom("view-2");
    await member(stub, "Ada");
    const view = await viewer(stub);
    view.socket.send('42/_view,1["stats"]');
    const answer = (await view.socket.next()) as string;
    expect(answer.startsWith("43/_view,1")).toBe(true);
    const [stats] = JSON.parse(answer.slice("43/_view,1".length));
    expect(stats).toMatchObject({ connections: 2, transports: { websocket: 2, polling: 0 }, namespaces: { "/": 1, "/_view": 1 } });
    expect(stats.sinceStart.socketsConnected).toBe(2);
    view.socket.send('42/_view,2["stats"]');
    expect(await view.socket.next()).toBe("43/_view,2" + answer.slice("43/_view,1".length)); // the same report
  });

  it("is not relayed, and is not seen by members", async () => {
    const stub = relayRoom("view-3");
    const ada = await member(stub, "Ada");
    const bob = await member(stub, "Bob");
    const first = await viewer(stub);
    const second = await viewer(stub); // a viewer alone is no member: no join for it
    first.socket.send('42/_view,["hello","everyone?"]');
    ada.socket.send('42["chat","hi"]');
    expect(await bob.socket.next()).toBe('42["chat","hi"]');
    for (const s of [first.socket, second.socket, ada.socket]) await expect(s.next({ timeout: 300 })).rejects.toThrow(/no frame/);
  });
});
