/**
 * What the Worker asks of a room object over Durable Object RPC, and what the
 * room answers. Requests are validated in the Worker before any room is called.
 */
import type { StatsReport } from "../room/room-stats";
import type { Handshake } from "../server/types";
import type { ApiErrorBody } from "./errors";

/**
 * Which sockets of the room an operation applies to, as socket.io's
 * `io.of(namespace).in(rooms).except(except)`: sockets of `namespace` in any of
 * `rooms` (every socket of the namespace when empty), minus those in any of
 * `except`. A socket id is a room of its own.
 */
export interface SocketSelector {
  /** Normalized: starts with "/". */
  namespace: string;
  rooms: string[];
  except: string[];
}

export interface EmitCommand extends SocketSelector {
  event: string;
  /** Event arguments, binary values already decoded to Uint8Array. */
  args: unknown[];
  volatile: boolean;
  /** Present when the publisher sent an Idempotency-Key. */
  idempotency?: IdempotencyClaim;
}

export interface IdempotencyClaim {
  /** Unique within the room (batch items get the request key plus their index). */
  key: string;
  /** Digest of the request content: the same key with other content is refused. */
  fingerprint: string;
}

export type EmitOutcome =
  | { ok: true; sockets: number; replayed: boolean }
  | { ok: false; status: number; error: ApiErrorBody["error"] };

export interface RoomInfo {
  /** Engine.IO connections, whether or not they joined a namespace. */
  connections: number;
  /** Sockets in all namespaces. */
  sockets: number;
  /** Sockets per namespace, for namespaces with at least one. */
  namespaces: Record<string, number>;
}

/** A room's stats: presence, live connections by transport, and the counters of src/room/room-stats.ts. */
export interface RoomStatsReport extends RoomInfo, StatsReport {
  /** Live Engine.IO connections by transport (a connection probing an upgrade still counts as polling). */
  transports: { websocket: number; polling: number };
}

/** One socket, as socket.io's `fetchSockets()` describes it. */
export interface SocketDescription {
  id: string;
  namespace: string;
  /** Includes the socket's own id, as in socket.io. */
  rooms: string[];
  data: unknown;
  handshake: Handshake;
}
