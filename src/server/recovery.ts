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
  /**
   * The CONNECT that took the session did not make it live: with `keep`
   * (its connection went meanwhile) it can be restored again, as it was;
   * without (refused) it is gone.
   */
  release(keep: boolean): void;
}

/**
 * Where a recoverable namespace logs the packets it sends and keeps the state
 * of its sockets (socket.io's session-aware adapter). One write per packet,
 * whatever the number of recipients. A socket's state is kept from its
 * CONNECT on ("live"), so that a socket whose room object or runtime went
 * without seeing it disconnect can be recovered too; one write per CONNECT,
 * room change, change of `data` and disconnect.
 */
export interface RecoveryStore {
  readonly settings: ConnectionStateRecovery;
  /**
   * Logs one outgoing EVENT for `nsp`, sent to `rooms` (none: everyone) except
   * `except`. `encode` builds the packet with the offset as its last argument.
   */
  log(nsp: string, rooms: ReadonlySet<string>, except: ReadonlySet<string>, encode: (offset: string) => EncodedParts): EncodedMessage;
  /** A socket left for a reason that keeps its state: restorable from now until the window passes. */
  saveSession(session: SavedSession): void;
  /** A socket connected (or was restored): kept live, i.e. restorable once a later instance finds it gone. */
  saveLive(session: SavedSession, webSocket: boolean): void;
  /** A live socket's rooms (its id included) or data changed. */
  updateLive(pid: string, rooms: readonly string[], data: unknown): void;
  /** A live socket's connection now runs over a WebSocket (it survives an eviction). */
  liveOverWebSocket(pid: string): void;
  /** A socket left for a reason that keeps nothing. */
  dropSession(pid: string): void;
  /**
   * Once per object start, before anything else: live sockets the new instance
   * cannot have (all of them if no WebSocket survived, else the polling ones)
   * are disconnected as of now.
   */
  reconcile(webSocketsSurvived: boolean): void;
  /** Takes a session back (it can be restored once), or null when it cannot be honoured. */
  restoreSession(pid: string, offset: string, nsp: string): RestoredSession | null;
}
