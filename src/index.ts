/**
 * socketio-edge: a Socket.IO server in a Durable Object per room.
 *
 * The default export is the Worker (routing, REST API, demo page). To run your
 * own logic, subclass SocketIORoom, export it, and bind it as ROOMS in
 * wrangler.toml (see examples/chat).
 */
import { app } from "./worker/app";

export { RelayRoom, relay } from "./apps/relay";
export { SocketIORoom } from "./room/socketio-room";
export { Server, type RemoteRoom, type ServerSettings } from "./server/server";
export { Namespace } from "./server/namespace";
export { Socket, AckTimeoutError, type PacketMiddleware } from "./server/socket";
export { BroadcastOperator } from "./server/broadcast";
export { ConnectError, NamespaceHandlers } from "./server/handlers";
export type { DefaultEventsMap, EventsMap } from "./server/typed-events";
export type { DisconnectReason, Handshake } from "./server/types";
export type { Env } from "./config";

/** The Worker, for an entry module of your own: `export default worker`. */
export const worker = app;
export default app;
