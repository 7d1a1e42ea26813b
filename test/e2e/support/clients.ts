import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export const MODES = {
  "polling → websocket": ["polling", "websocket"],
  "websocket only": ["websocket"],
  "polling only": ["polling"],
} as const;
export type Mode = keyof typeof MODES;

const open: Socket[] = [];

/** A real socket.io-client socket, connected; closed by closeAll(). */
export async function connect(
  url: string,
  room: string,
  mode: Mode,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  const socket = io(url, {
    query: { room },
    transports: [...MODES[mode]],
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    ...options,
  });
  open.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  if (mode === "polling → websocket" && socket.io.engine.transport.name !== "websocket") {
    await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
  }
  return socket;
}

/** Another namespace on the same connection (multiplexed by the socket's Manager). */
export async function connectNamespace(socket: Socket, nsp: string): Promise<Socket> {
  const other = socket.io.socket(nsp);
  open.push(other);
  other.connect();
  await new Promise<void>((resolve, reject) => {
    other.once("connect", () => resolve());
    other.once("connect_error", reject);
  });
  return other;
}

export function closeAll(): void {
  for (const socket of open.splice(0)) socket.disconnect();
}

/** Resolves with the arguments of the next `event` on `socket`. */
export function next(socket: Socket, event: string, timeout = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeout} ms`)), timeout);
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Collects every `event` on `socket` from now on. */
export function collect(socket: Socket, event: string): unknown[][] {
  const seen: unknown[][] = [];
  socket.on(event, (...args: unknown[]) => seen.push(args));
  return seen;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
