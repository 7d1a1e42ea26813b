import type { Socket } from "./socket";
import type { DisconnectReason } from "./types";

export type ConnectionHandler = (socket: Socket) => unknown;
export type DisconnectHandler = (socket: Socket, reason: DisconnectReason) => unknown;
/** Receives the event's arguments; the last one is the ack function when the client asked for one. */
export type EventHandler = (socket: Socket, ...args: any[]) => unknown;
export type AnyEventHandler = (socket: Socket, event: string, ...args: any[]) => unknown;

/**
 * Handlers of a namespace. They are registered once, when the room object is
 * constructed (so again after every wake), and receive the socket as first
 * argument: nothing per connection has to be re-registered after hibernation.
 */
export class NamespaceHandlers {
  private readonly connection: ConnectionHandler[] = [];
  private readonly disconnect: DisconnectHandler[] = [];
  private readonly events = new Map<string, EventHandler[]>();
  private readonly any: AnyEventHandler[] = [];

  /** `connection` runs once per socket, when it connects (not when the object wakes). */
  on(type: "connection", handler: ConnectionHandler): this;
  on(type: "disconnect", handler: DisconnectHandler): this;
  on(type: "connection" | "disconnect", handler: ConnectionHandler | DisconnectHandler): this {
    if (type === "connection") this.connection.push(handler as ConnectionHandler);
    else this.disconnect.push(handler as DisconnectHandler);
    return this;
  }

  /** Handles one client event, for every socket of the namespace. */
  event(name: string, handler: EventHandler): this {
    const list = this.events.get(name);
    if (list) list.push(handler);
    else this.events.set(name, [handler]);
    return this;
  }

  /** Handles every client event (before the handlers of that event). */
  onAny(handler: AnyEventHandler): this {
    this.any.push(handler);
    return this;
  }

  fireConnection(socket: Socket): void {
    for (const handler of this.connection) guard(() => handler(socket));
  }

  fireDisconnect(socket: Socket, reason: DisconnectReason): void {
    for (const handler of this.disconnect) guard(() => handler(socket, reason));
  }

  fireEvent(socket: Socket, event: string, args: unknown[]): void {
    for (const handler of this.any) guard(() => handler(socket, event, ...args));
    for (const handler of this.events.get(event) ?? []) guard(() => handler(socket, ...args));
  }
}

/** A throwing or rejecting handler is logged; it never breaks the room. */
function guard(run: () => unknown): void {
  try {
    const result = run();
    if (result instanceof Promise) result.catch(logHandlerError);
  } catch (error) {
    logHandlerError(error);
  }
}

function logHandlerError(error: unknown): void {
  console.error("Socket.IO handler failed:", error);
}
