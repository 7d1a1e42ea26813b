import type { Socket } from "./socket";
import type { DefaultEventsMap, EventsMap } from "./typed-events";
import type { DisconnectReason } from "./types";

type AnySocket = Socket<any, any, any>;

/** Refuses a connection with CONNECT_ERROR: `message` and optional `data` reach the client. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export type ConnectionHandler<S extends AnySocket> = (socket: S) => unknown;
export type DisconnectHandler<S extends AnySocket> = (socket: S, reason: DisconnectReason) => unknown;
/** Receives the event's arguments; the last one is the ack function when the client asked for one. */
export type EventHandler<S extends AnySocket> = (socket: S, ...args: any[]) => unknown;
export type AnyEventHandler<S extends AnySocket> = (socket: S, event: string, ...args: any[]) => unknown;
/** Runs before a socket connects; `next()` lets it through, `next(error)` (or a throw, or a rejection) refuses it. */
export type ConnectMiddleware<S extends AnySocket> = (socket: S, next: (error?: Error) => void) => unknown;

/**
 * Handlers of a namespace. They are registered once, when the room object is
 * constructed, which happens again after every wake: nothing registered here
 * is lost to hibernation, and nothing here runs per connection by itself.
 */
export class NamespaceHandlers<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> {
  private readonly connection: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>[] = [];
  private readonly disconnect: DisconnectHandler<Socket<ListenEvents, EmitEvents, SocketData>>[] = [];
  private readonly socketSetup: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>[] = [];
  private readonly events = new Map<string, EventHandler<Socket<ListenEvents, EmitEvents, SocketData>>[]>();
  private readonly any: AnyEventHandler<Socket<ListenEvents, EmitEvents, SocketData>>[] = [];
  readonly middlewares: ConnectMiddleware<Socket<ListenEvents, EmitEvents, SocketData>>[] = [];

  /**
   * `connection` runs once per socket, when it connects: the place for side
   * effects (announce, load, count). It does not run again when the object wakes.
   */
  on(type: "connection", handler: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this;
  on(type: "disconnect", handler: DisconnectHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this;
  on(type: "connection" | "disconnect", handler: (socket: any, reason?: any) => unknown): this {
    if (type === "connection") this.connection.push(handler);
    else this.disconnect.push(handler);
    return this;
  }

  /**
   * Runs for every socket each time it is built in memory: when it connects, and
   * again after the object wakes from hibernation. Register the socket's
   * listeners here (`socket.on`, `socket.onAny`, `socket.use`); keep it free of
   * side effects, which belong in `on("connection")`.
   */
  onSocket(setup: ConnectionHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    this.socketSetup.push(setup);
    return this;
  }

  /** Runs before each socket connects, in order (socket.io's `use`). */
  use(middleware: ConnectMiddleware<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    this.middlewares.push(middleware);
    return this;
  }

  /** Handles one client event for every socket of the namespace; the socket comes first. */
  event(name: string, handler: EventHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    const list = this.events.get(name);
    if (list) list.push(handler);
    else this.events.set(name, [handler]);
    return this;
  }

  /** Handles every client event (before the handlers of that event). */
  onAny(handler: AnyEventHandler<Socket<ListenEvents, EmitEvents, SocketData>>): this {
    this.any.push(handler);
    return this;
  }

  // --- used by the room ----------------------------------------------------

  fireConnection(socket: Socket<ListenEvents, EmitEvents, SocketData>, settled: () => void): void {
    for (const handler of this.connection) guard(() => handler(socket), settled);
  }

  fireSetup(socket: Socket<ListenEvents, EmitEvents, SocketData>): void {
    for (const setup of this.socketSetup) guard(() => setup(socket));
  }

  fireDisconnect(socket: Socket<ListenEvents, EmitEvents, SocketData>, reason: DisconnectReason): void {
    for (const handler of this.disconnect) guard(() => handler(socket, reason));
  }

  fireAny(socket: Socket<ListenEvents, EmitEvents, SocketData>, event: string, args: unknown[], settled: () => void): void {
    for (const handler of this.any) guard(() => handler(socket, event, ...args), settled);
  }

  fireEvent(socket: Socket<ListenEvents, EmitEvents, SocketData>, event: string, args: unknown[], settled: () => void): void {
    for (const handler of this.events.get(event) ?? []) guard(() => handler(socket, ...args), settled);
  }
}

/**
 * Runs a handler so that a throw or a rejection is logged and never breaks the
 * room; `settled` runs when it is done (after its promise, if it returned one).
 */
export function guard(run: () => unknown, settled?: () => void): void {
  try {
    const result = run();
    if (result instanceof Promise) {
      result.catch(logHandlerError).finally(settled);
      return;
    }
  } catch (error) {
    logHandlerError(error);
  }
  settled?.();
}

export function logHandlerError(error: unknown): void {
  console.error("Socket.IO handler failed:", error);
}

/** Runs connect middlewares in order; resolves with the refusal, if any. */
export async function runConnectMiddlewares<S extends AnySocket>(
  middlewares: readonly ConnectMiddleware<S>[],
  socket: S,
): Promise<Error | null> {
  for (const middleware of middlewares) {
    const error = await new Promise<Error | null>((resolve) => {
      let done = false;
      const next = (err?: Error) => {
        if (done) return;
        done = true;
        resolve(err ?? null);
      };
      try {
        const result = middleware(socket, next);
        // An async middleware may simply return to let the socket through.
        if (result instanceof Promise) result.then(() => next(), (err) => next(toError(err)));
      } catch (err) {
        next(toError(err));
      }
    });
    if (error) return error;
  }
  return null;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
