import type { Env } from "../config";
import { SocketIORoom } from "../room/socketio-room";
import type { Server, ServerSettings } from "../server/server";

export interface RelayOptions {
  enabled: boolean;
  /** Only events whose name starts with this are relayed ("" relays all). */
  eventPrefix: string;
}

export function readRelayOptions(env: Env): RelayOptions {
  return { enabled: (env.RELAY ?? "on") !== "off", eventPrefix: env.RELAY_EVENT_PREFIX ?? "" };
}

/**
 * The zero-code behaviour: an event a client emits goes to every other socket of
 * its namespace in this room, arguments intact; its ack (if the client asked for
 * one) answers `{ delivered }` once the relay is done.
 */
export function relay(io: Server, options: RelayOptions): void {
  if (!options.enabled) return;
  io.of(() => true).onAny((socket, event: string, ...args: unknown[]) => {
    if (!event.startsWith(options.eventPrefix)) return;
    const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (...a: unknown[]) => void) : null;
    const delivered = socket.broadcast.emit(event, ...args);
    ack?.({ delivered });
  });
}

/** The room object the shipped Worker uses: a plain relay, configured in wrangler.toml. */
export class RelayRoom extends SocketIORoom {
  /** Any namespace a client names connects (and gets the relay): the shipped Worker has no list of them. */
  protected override serverSettings(): ServerSettings {
    return { dynamicNamespaces: true };
  }

  protected override setup(io: Server): void {
    relay(io, readRelayOptions(this.env));
  }
}
