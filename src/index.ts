/**
 * The Worker: routes every Socket.IO request to its room's Durable Object.
 * Export the room classes the wrangler.toml bindings name.
 */
import { app } from "./worker/app";

export { RelayRoom } from "./apps/relay";
export { ConformanceRoom, EngineEchoRoom } from "./apps/conformance";
export { SocketIORoom } from "./room/socketio-room";

export default app;
