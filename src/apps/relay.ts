import type { Env } from "../config";
import type { EngineSession } from "../engine.io/session";
import { SocketIORoom } from "../room/socketio-room";
import type { NamespacePattern, Server, ServerSettings } from "../server/server";
import type { Socket } from "../server/socket";
import type { ConnectionState, DisconnectReason } from "../server/types";
import { readRoomViewEnabled, RoomView, VIEW_NAMESPACE } from "./room-view";

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
export function relay(io: Server, options: RelayOptions, namespaces: NamespacePattern = () => true): void {
  if (!options.enabled) return;
  io.of(namespaces).onAny((socket, event: string, ...args: unknown[]) => {
    if (!event.startsWith(options.eventPrefix)) return;
    const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (...a: unknown[]) => void) : null;
    if (ack === null) return void socket.broadcast.emit(event, ...args);
    // In a sharded room, counted once every shard holding recipients delivered it.
    void socket.broadcast.emitCounted(event, ...args).then((delivered) => ack({ delivered }));
  });
}

/**
 * The room object the shipped Worker uses: a plain relay, configured in
 * wrangler.toml, with the live room view (src/apps/room-view.ts) unless
 * ROOM_VIEW is "off"; the relay leaves the view's namespace alone.
 */
export class RelayRoom extends SocketIORoom {
  // Set by setup(), which runs inside the base constructor: a field initializer would reset it afterwards.
  declare private view: RoomView | undefined;

  /** Any namespace a client names connects (and gets the relay): the shipped Worker has no list of them. */
  protected override serverSettings(): ServerSettings {
    return { dynamicNamespaces: true };
  }

  protected override setup(io: Server): void {
    if (readRoomViewEnabled(this.env)) {
      this.view = new RoomView(io, { transportOf: (socket) => this.transportOf(socket), stats: () => this.restStats() });
      relay(io, readRelayOptions(this.env), (name) => name !== VIEW_NAMESPACE);
    } else {
      relay(io, readRelayOptions(this.env));
    }
  }

  protected override onSocketConnected(socket: Socket): void {
    this.view?.joined(socket);
  }

  protected override onSocketDisconnected(socket: Socket, reason: DisconnectReason): void {
    this.view?.left(socket, reason);
  }

  protected override onEngineUpgrade(session: EngineSession<ConnectionState>): void {
    this.view?.transportChanged(session.state);
  }
}
