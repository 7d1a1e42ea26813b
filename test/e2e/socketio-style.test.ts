/**
 * A room written the socket.io way (listeners inside `connection`, not strict)
 * with the real socket.io-client: after hibernation the client is made to
 * reconnect, its listeners come back, and with client retries no emit is lost.
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./support/worker";

let server: RunningWorker;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = await startWorker({}, { configPath: "./test/support/wrangler.socketio-style.toml" });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(() => server?.stop());

describe("listeners registered inside connection", () => {
  it("come back after hibernation through a reconnect; a retried emit is answered", async () => {
    const room = `style-${Date.now()}`;
    const socket = io(server.url, { query: { room }, transports: ["websocket"], forceNew: true, retries: 3, ackTimeout: 1000, reconnectionDelay: 50 });
    sockets.push(socket);
    const hellos: string[] = [];
    socket.on("hello", (id: string) => hellos.push(id));
    await new Promise((resolve) => socket.once("connect", () => resolve(null)));
    expect(await socket.emitWithAck("echo", "before")).toBe("before");

    await server.evictRoom(room);
    const reasons: string[] = [];
    socket.on("disconnect", (reason) => reasons.push(reason));
    // The first send after the wake closes the connection; the client reconnects and retries.
    expect(await socket.emitWithAck("echo", "after")).toBe("after");
    expect(reasons).toEqual(["transport close"]);
    expect(hellos).toHaveLength(2); // "connection" ran again, for the new socket
    expect(hellos[1]).toBe(socket.id);
  });
});

describe("options in code", () => {
  const handshake = (origin?: string) =>
    fetch(`${server.url}/socket.io/?EIO=4&transport=polling&room=style-options`, { headers: origin ? { Origin: origin } : {} });

  it("apply when no var overrides them: heartbeat and CORS origins", async () => {
    const open = JSON.parse((await (await handshake()).text()).slice(1));
    expect(open.pingInterval).toBe(4000);
    expect((await handshake("https://allowed.example")).status).toBe(200);
    const refused = await handshake("https://elsewhere.example");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ code: 4, message: "Forbidden" });
  });
});
