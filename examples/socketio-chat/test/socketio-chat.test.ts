/** socket.io's chat example, ported (examples/socketio-chat), driven by real clients with its event names. */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MODES, type Mode } from "../../../test/e2e/support/clients";
import { startWorker, type RunningWorker } from "../../../test/e2e/support/worker";

let chat: RunningWorker;
const sockets: Socket[] = [];
beforeAll(async () => {
  chat = await startWorker({}, { configPath: "./examples/socketio-chat/wrangler.toml" });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(() => chat?.stop());

async function user(room: string, mode: Mode): Promise<Socket> {
  const socket = io(chat.url, { query: { room }, forceNew: true, transports: [...MODES[mode]] });
  sockets.push(socket);
  await new Promise((resolve) => socket.once("connect", () => resolve(null)));
  return socket;
}
const next = <T>(socket: Socket, event: string) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}"`)), 5000);
    socket.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });

describe("socket.io's chat example", () => {
  for (const mode of Object.keys(MODES) as Mode[]) {
    it(`logs in, announces, relays messages and typing, and says who left (${mode})`, async () => {
      const room = `socketio-chat-${mode.replace(/\W+/g, "-")}`;
      const alice = await user(room, mode);
      const bob = await user(room, mode);

      const aliceLogin = next(alice, "login");
      alice.emit("add user", "alice");
      expect(await aliceLogin).toEqual({ numUsers: 1 });

      const joined = next(alice, "user joined");
      const bobLogin = next(bob, "login");
      bob.emit("add user", "bob");
      expect(await bobLogin).toEqual({ numUsers: 2 });
      expect(await joined).toEqual({ username: "bob", numUsers: 2 });

      const message = next(bob, "new message");
      alice.emit("new message", "hello bob");
      expect(await message).toEqual({ username: "alice", message: "hello bob" });

      const typing = next(alice, "typing");
      bob.emit("typing");
      expect(await typing).toEqual({ username: "bob" });
      const stopped = next(alice, "stop typing");
      bob.emit("stop typing");
      expect(await stopped).toEqual({ username: "bob" });

      const left = next(alice, "user left");
      bob.disconnect();
      expect(await left).toEqual({ username: "bob", numUsers: 1 });
    });
  }

  it("keeps its users and their names across hibernation", async () => {
    const room = "socketio-chat-hibernation";
    const alice = await user(room, "websocket only");
    const bob = await user(room, "websocket only");
    const logins = [next(alice, "login"), next(bob, "login")];
    alice.emit("add user", "alice");
    await logins[0];
    bob.emit("add user", "bob");
    await logins[1];

    await chat.evictRoom(room);

    const message = next(alice, "new message");
    bob.emit("new message", "still here");
    expect(await message).toEqual({ username: "bob", message: "still here" });
    const left = next(bob, "user left");
    alice.disconnect();
    expect(await left).toEqual({ username: "alice", numUsers: 1 });
  });

  it("serves the client where socket.io serves it, for the example's page", async () => {
    const response = await fetch(`${chat.url}/socket.io/socket.io.js`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Socket.IO");
  });
});
