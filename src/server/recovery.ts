import type { EncodedMessage } from "../engine.io/frames";
import type { EncodedParts } from "../socket.io/protocol";
import type { DisconnectReason } from "./types";

/** socket.io's `connectionStateRecovery` option. */
export interface ConnectionStateRecovery {
  /** How long a disconnected socket's state and the packets it may miss are kept, ms (socket.io: 2 minutes). */
  maxDisconnectionDuration: number;
  /** Whether a recovered socket skips the namespace's connect middlewares (socket.io: true). */
  skipMiddlewares: boolean;
}

export const DEFAULT_RECOVERY: ConnectionStateRecovery = { maxDisconnectionDuration: 120_000, skipMiddlewares: true };

/** The reasons after which socket.io keeps a socket's state for recovery. */
export const RECOVERABLE_REASONS: ReadonlySet<DisconnectReason> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
]);

/** A socket's state kept while its client is away. */
export interface SavedSession {
  /** The private session id, a secret the client proves its identity with. */
  pid: string;
  /** The socket id, given back to the client on recovery. */
  sid: string;
  nsp: string;
  /** Rooms the socket was in, its own id included. */
  rooms: string[];
  data: unknown;
}

export interface RestoredSession extends SavedSession {
  /**
   * The packets sent to the socket's rooms after its offset, in order, each
   * with its offset, as the log holds them now: read them in the same
   * synchronous step that makes the socket live, so nothing falls in between.
   */
  missedPackets(): EncodedMessage[];
}

/**
 * Where a recoverable namespace logs the packets it sends and keeps the state
 * of disconnected sockets (socket.io's session-aware adapter). One write per
 * packet, whatever the number of recipients.
 */
export interface RecoveryStore {
  readonly settings: ConnectionStateRecovery;
  /**
   * Logs one outgoing EVENT for `nsp`, sent to `rooms` (none: everyone) except
   * `except`. `encode` builds the packet with the offset as its last argument.
   */
  log(nsp: string, rooms: ReadonlySet<string>, except: ReadonlySet<string>, encode: (offset: string) => EncodedParts): EncodedMessage;
  saveSession(session: SavedSession): void;
  /** Takes a session back (it can be restored once), or null when it cannot be honoured. */
  restoreSession(pid: string, offset: string, nsp: string): RestoredSession | null;
}
