/**
 * socketio-edge emitter: publish to rooms, read presence and manage sockets from
 * any backend (Node, Workers, browsers, anything with fetch) over the REST API.
 * Package entry point "socketio-edge/emitter".
 */
export { BroadcastOperator, Emitter, RemoteSocket, RoomEmitter } from "./emitter.js";
export { EmitterError } from "./client.js";
export { BINARY_KEY, type BinaryJson } from "../rest/binary-json.js";
export type {
  BatchItem,
  BatchResult,
  DefaultEventsMap,
  EmitResult,
  EmitTarget,
  EmitterOptions,
  EventNames,
  EventParams,
  EventsMap,
  Handshake,
  RoomInfo,
  RoomStats,
  StatsCounts,
} from "./types.js";
