import { env, SELF } from "cloudflare:test";

export type Frame = string | ArrayBuffer;

/** A raw WebSocket client inside workerd, with a queue of received frames. */
export class TestSocket {
  private readonly frames: Frame[] = [];
  private readonly waiters: ((frame: Frame) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  /** Answers pings like a real client does, unless `autoPong` is off. */
  constructor(
    readonly ws: WebSocket,
    private readonly autoPong = true,
  ) {
    ws.binaryType = "arraybuffer";
    ws.accept();
    ws.addEventListener("message", (event) => {
      const frame = event.data as Frame;
      if (frame === "2" && this.autoPong) ws.send("3");
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
    );
  }

  /** The next frame, skipping pings and noops unless asked for. */
  async next(options: { control?: boolean; timeout?: number } = {}): Promise<Frame> {
    for (;;) {
      const frame = await this.take(options.timeout ?? 2000);
      if (options.control || (frame !== "2" && frame !== "6")) return frame;
    }
  }

  private take(timeout: number): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error("no frame within " + timeout + " ms"));
      }, timeout);
      const waiter = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(waiter);
    });
  }

  send(frame: string | ArrayBuffer | Uint8Array): void {
    this.ws.send(frame);
  }

  close(): void {
    this.ws.close(1000);
  }
}

type Target = { fetch(input: RequestInfo, init?: RequestInit): Promise<Response> };

export const worker: Target = SELF;

/** A stub of a test room (TestRoom, with server-side handlers) by name. */
export function testRoom(name: string): DurableObjectStub {
  const ns = (env as unknown as { TEST_ROOMS: DurableObjectNamespace }).TEST_ROOMS;
  return ns.get(ns.idFromName(name));
}

/** A stub of a room written the socket.io way (listeners in `connection`, not strict). */
export function socketIOStyleRoom(name: string): DurableObjectStub {
  const ns = (env as unknown as { SOCKETIO_STYLE_ROOMS: DurableObjectNamespace }).SOCKETIO_STYLE_ROOMS;
  return ns.get(ns.idFromName(name));
}

/** A stub of a shipped relay room by name (what the Worker routes `room=name` to). */
export function relayRoom(name: string): DurableObjectStub {
  const ns = (env as unknown as { ROOMS: DurableObjectNamespace }).ROOMS;
  return ns.get(ns.idFromName(name));
}

/** A stub of a conformance room (namespaces "/" and "/custom" only). */
export function conformanceRoom(name: string): DurableObjectStub {
  const ns = (env as unknown as { CONFORMANCE_ROOMS: DurableObjectNamespace }).CONFORMANCE_ROOMS;
  return ns.get(ns.idFromName(name));
}

/** Opens an Engine.IO WebSocket and returns it with its handshake. */
export async function openWebSocket(
  target: Target,
  query = "",
  autoPong = true,
): Promise<{ socket: TestSocket; handshake: any }> {
  const response = await target.fetch(`http://test/socket.io/?EIO=4&transport=websocket${query}`, {
    headers: { Upgrade: "websocket" },
  });
  if (response.status !== 101 || !response.webSocket) throw new Error(`upgrade refused: ${response.status}`);
  const socket = new TestSocket(response.webSocket, autoPong);
  const open = (await socket.next()) as string;
  if (!open.startsWith("0")) throw new Error("expected an open packet, got " + open);
  return { socket, handshake: JSON.parse(open.slice(1)) };
}

/** Opens a WebSocket and connects the Socket.IO main namespace (or `nsp`). */
export async function connectSocketIO(target: Target, query = "", nsp = "/"): Promise<{ socket: TestSocket; id: string }> {
  const { socket } = await openWebSocket(target, query);
  const prefix = nsp === "/" ? "" : nsp + ",";
  socket.send("40" + prefix);
  const connect = (await socket.next()) as string;
  if (!connect.startsWith("40" + prefix)) throw new Error("expected CONNECT, got " + connect);
  return { socket, id: JSON.parse(connect.slice(2 + prefix.length)).sid };
}

export async function pollingHandshake(target: Target, query = ""): Promise<string> {
  const response = await target.fetch(`http://test/socket.io/?EIO=4&transport=polling${query}`);
  if (response.status !== 200) throw new Error(`handshake failed: ${response.status}`);
  return JSON.parse((await response.text()).slice(1)).sid;
}

export function pollUrl(sid: string): string {
  return `http://test/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
