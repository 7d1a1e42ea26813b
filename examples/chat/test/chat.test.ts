/** The chat example, served by wrangler, used by real socket.io-client sockets. */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "../../../test/e2e/support/worker";

let chat: RunningWorker;
const sockets: Socket[] = [];
beforeAll(async () => {
  chat = await startWorker({}, { configPath: "./examples/chat/wrangler.toml" });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(() => chat?.stop());

function join(nick: string, room: string): Socket {
  const socket = io(chat.url, { query: { room }, auth: { nick }, forceNew: true, transports: ["websocket"] });
  sockets.push(socket);
  return socket;
}
const once = <T>(socket: Socket, event: string) => new Promise<T>((resolve) => socket.once(event, (value: T) => resolve(value)));

describe("chat example", () => {
  it("refuses a connection without a valid nickname", async () => {
    const socket = join("not a nick!", "chat-1");
    const error = await once<Error>(socket, "connect_error");
    expect(error.message).toMatch(/Pick a nickname/);
  });

  it("delivers messages with a receipt, announces joins and nick changes, relays typing", async () => {
    const ann = join("ann", "chat-2");
    await once(ann, "history");
    const bob = join("bob", "chat-2");
    expect(await once(ann, "user joined")).toBe("bob");
    expect(await once(bob, "history")).toEqual([]);

    const typing = once(ann, "typing");
    bob.emit("typing", true);
    expect(await typing).toEqual({ nick: "bob", typing: true });

    const received = once<{ id: number; from: string; text: string }>(ann, "message");
    const receipt = await bob.timeout(5000).emitWithAck("message", "hello ann");
    expect(receipt.id).toBe(1);
    expect(await received).toMatchObject({ id: 1, from: "bob", text: "hello ann" });

    const changed = once(ann, "nick changed");
    expect(await bob.timeout(5000).emitWithAck("set nick", "robert")).toEqual({ ok: true });
    expect(await changed).toEqual({ from: "bob", to: "robert" });
    expect(await bob.timeout(5000).emitWithAck("set nick", "no spaces")).toMatchObject({ ok: false });
  });

  it("keeps history and nicknames across eviction of the room object", async () => {
    const ann = join("ann", "chat-3");
    await once(ann, "history");
    await ann.timeout(5000).emitWithAck("message", "first");
    expect(await ann.timeout(5000).emitWithAck("set nick", "anna")).toEqual({ ok: true });
    await chat.evictRoom("chat-3");
    const cy = join("cy", "chat-3");
    const history = await once<{ text: string }[]>(cy, "history");
    expect(history.map((m) => m.text)).toEqual(["first"]);
    const received = once<{ from: string; id: number }>(cy, "message");
    expect((await ann.timeout(5000).emitWithAck("message", "second")).id).toBe(2);
    expect(await received).toMatchObject({ from: "anna", id: 2 }); // socket.data survived
    const left = once(cy, "user left");
    ann.disconnect();
    expect(await left).toBe("anna");
  });
});
