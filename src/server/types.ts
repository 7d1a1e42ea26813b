import type { Socket } from "./socket";

import type { EncodedMessage } from "../engine.io/frames";
import type { ParsedQuery, RequestRecord } from "./handshake";

/** One namespace's socket of a connection, as stored in the WebSocket attachment. */
export interface SocketRecord {
  id: string;
  /** Rooms joined inside the object, besides the socket's own id. */
  rooms: string[];
  data: unknown;
  auth: Record<string, unknown>;
  /** Verified JWT claims, when the room checks tokens. */
  claims?: Record<string, unknown>;
  connectedAt: number;
  /** Private session id, with connection state recovery: what the client proves it is this socket with. */
  pid?: string;
  /** Listeners were registered outside `onSocket`: they do not come back after a wake (see Socket.on). */
  unrebuiltListeners?: true;
}

/** Everything about a connection that must survive hibernation (its attachment, at most 16 KB). */
export interface ConnectionState extends RequestRecord {
  /** The room (object) the connection belongs to. */
  room: string;
  /** The shard of a sharded room that serves the connection (src/shard). */
  shard?: number;
  /** Connected namespaces, by name. */
  sockets: Record<string, SocketRecord>;
}

/** What the server API needs from the transport under a connection. */
export interface Connection {
  readonly sid: string;
  readonly state: ConnectionState;
  send(message: EncodedMessage): void;
  /** Whether a packet sent now goes out at once (false: a polling client between requests). */
  readonly writable: boolean;
  /** Writes `state` where it survives hibernation. */
  persist(): void;
  /** Closes the whole connection (every namespace). */
  close(): void;
  /** Forgets a socket that left its namespace (for `reason`). */
  detach(socket: Socket<any, any, any>, reason: DisconnectReason): void;
}

export type DisconnectReason =
  | "client namespace disconnect"
  | "server namespace disconnect"
  | "transport close"
  | "transport error"
  | "ping timeout"
  | "parse error"
  | "forced close";

/** socket.io's `socket.handshake`, field for field (plus `claims`). */
export interface Handshake {
  /** Request headers (all of them within 4 KB of JSON, `cookie` first; see src/server/handshake.ts). */
  headers: Record<string, string>;
  /** When the socket connected, as `new Date().toString()`. */
  time: string;
  address: string | null;
  /** The request had an Origin header. */
  xdomain: boolean;
  /** The request came over https. */
  secure: boolean;
  /** When the socket connected (ms since epoch). */
  issued: number;
  /** Path and query string of the request that opened the connection. */
  url: string;
  /** Every query parameter as sent (EIO, transport, t, yours). */
  query: ParsedQuery;
  auth: Record<string, unknown>;
  /** Verified JWT claims, when the room checks tokens (the token itself is not kept). */
  claims?: Record<string, unknown>;
}
