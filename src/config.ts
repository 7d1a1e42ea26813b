import { DEFAULT_RECOVERY, type ConnectionStateRecovery } from "./server/recovery";
import type { PacketRate } from "./engine.io/rate-limit";
/** Bindings and vars the Worker and the room objects read (see wrangler.toml). */
export interface Env {
  ROOMS: DurableObjectNamespace;
  ENGINE_ECHO?: DurableObjectNamespace;
  DEFAULT_ROOM?: string;
  PING_INTERVAL?: string;
  PING_TIMEOUT?: string;
  MAX_HTTP_BUFFER_SIZE?: string;
  CONNECT_TIMEOUT?: string;
  /** Packets per second one connection may send ("0": no limit); over it, it is closed. */
  MAX_PACKET_RATE?: string;
  /** Packets one connection may send at once after a quiet time. */
  PACKET_BURST?: string;
  CORS_ORIGINS?: string;
  PONG_AUTO_RESPONSE?: string;
  HIBERNATION?: string;
  /** "on": a listener registered outside `io.onSocket` throws (set it in tests); see docs/server-api.md. */
  STRICT_LISTENERS?: string;
  /** "on": a JSON line per Socket.IO connect and disconnect (errors are always logged). */
  LOG_CONNECTIONS?: string;
  RELAY?: string;
  RELAY_EVENT_PREFIX?: string;
  /** "on" (default): the relay room serves the live room view (namespace "/_view", src/apps/room-view.ts). */
  ROOM_VIEW?: string;
  /** Connection state recovery window in ms ("0": off); overrides the room's own setting. */
  CONNECTION_STATE_RECOVERY_MS?: string;
  /** Sharded rooms (src/shard): comma-separated room names or prefixes ending in "*" ("*": every room). */
  SHARDED_ROOMS?: string;
  /** Connections per shard of a sharded room before new ones go to another shard (default 5000). */
  SHARD_MAX_CONNECTIONS?: string;
  /** Secret: key of the REST API (`Authorization: Bearer <key>`). No key, no REST API. */
  API_KEY?: string;
  /** Secret: a second accepted key, for rotating API_KEY without downtime. */
  API_KEY_NEXT?: string;
  // Client auth on CONNECT (src/auth, docs/auth-and-webhooks.md). No JWT_SECRET and no JWT_JWKS_URL: off.
  /** Secret: HS256 shared secret, at least 32 bytes. */
  JWT_SECRET?: string;
  /** JWKS with the RS256 / ES256 public keys (https). */
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** "on" (default): a client without a token is refused; "off": it connects without claims. */
  JWT_REQUIRED?: string;
  /** Seconds of tolerance on exp/nbf/iat, default 30. */
  JWT_CLOCK_SKEW?: string;
  // Webhooks upstream (src/webhooks, docs/auth-and-webhooks.md). No WEBHOOK_URL: off.
  WEBHOOK_URL?: string;
  /** Secret: HMAC-SHA256 key of the signatures. Without it nothing is sent. */
  WEBHOOK_SECRET?: string;
  /** Comma-separated: "connect", "disconnect", event names, "*" for every client event. */
  WEBHOOK_EVENTS?: string;
  WEBHOOK_TIMEOUT_MS?: string;
  WEBHOOK_RETRIES?: string;
}

/**
 * Server options a room class sets in code (`serverSettings()`), named and shaped
 * as socket.io's `new Server(options)`. A var that is set (wrangler.toml,
 * `.dev.vars`) overrides the same option given here.
 */
export interface EngineSettings {
  pingInterval?: number;
  pingTimeout?: number;
  maxHttpBufferSize?: number;
  connectTimeout?: number;
  /**
   * Packets per second one connection may send, sustained (0: no limit); with
   * `packetBurst`, a token bucket. Over it the connection is closed ("rate
   * limited"). Not a socket.io option (ARCHITECTURE.md, "Limits that protect the room").
   */
  maxPacketRate?: number;
  /** Packets one connection may send at once after a quiet time. */
  packetBurst?: number;
  /** Browser origins allowed; `"*"` (default) allows any. */
  cors?: { origin?: "*" | string | readonly string[] };
  /**
   * socket.io's connection state recovery (`{}`: its defaults, a 2-minute
   * window); kept in the room's SQLite storage. The var
   * CONNECTION_STATE_RECOVERY_MS, when set, overrides the window ("0": off).
   */
  connectionStateRecovery?: Partial<ConnectionStateRecovery>;
  /**
   * socket.io's callback form of the handshake check (the room's `allowRequest`
   * method calls it): `callback(null, true)` accepts, `callback(message, false)`
   * refuses with 403 and that message (or "Forbidden").
   */
  allowRequest?: (request: Request, callback: (err: string | null | undefined, success: boolean) => void) => void;
  /** A socket listener registered outside `io.onSocket` throws instead of only being reported once. */
  strictListeners?: boolean;
  /**
   * A JSON line per Socket.IO connect and disconnect (README, "Logs"); errors
   * are logged either way. Off by default, as socket.io logs nothing: each line
   * is a log event to pay for, and under `wrangler dev` it costs every
   * connection time and memory (BENCHMARKS.md, History).
   */
  logConnections?: boolean;
}

/** Server options, named as socket.io names them. */
export interface ServerOptions {
  pingInterval: number;
  pingTimeout: number;
  maxHttpBufferSize: number;
  connectTimeout: number;
  /** Per-connection token bucket over incoming packets. */
  packetRate: PacketRate;
  /** Answer pongs in the runtime (without waking the object) with a noop. */
  pongAutoResponse: boolean;
  /** Accept WebSockets through the Hibernation API (off: plain accept, object stays in memory). */
  hibernation: boolean;
  corsOrigins: "*" | string[];
  defaultRoom: string;
  /** null when the room did not ask for it. */
  connectionStateRecovery: ConnectionStateRecovery | null;
  strictListeners: boolean;
  logConnections: boolean;
}

function positiveInt(value: string | undefined, fallback: number, name: string, zeroAllowed = false): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || (n === 0 && !zeroAllowed)) {
    throw new Error(`${name} must be a ${zeroAllowed ? "non-negative" : "positive"} integer, got "${value}"`);
  }
  return n;
}

/** Default per-connection packet rate: far above what an application's client sends, far below a flood. */
export const DEFAULT_PACKET_RATE: PacketRate = { perSecond: 1_000, burst: 2_000 };

/** Vars that overrode a different value set in code, already reported (once per isolate). */
const reportedOverrides = new Set<string>();

/** The var when it is set, else the value from code, else the default; a var overriding code is logged once. */
function pick<T>(varName: string, raw: string | undefined, fromVar: (raw: string) => T, fromCode: T | undefined, fallback: T): T {
  if (raw === undefined || raw === "") return fromCode ?? fallback;
  const value = fromVar(raw);
  if (fromCode !== undefined && JSON.stringify(fromCode) !== JSON.stringify(value) && !reportedOverrides.has(varName)) {
    reportedOverrides.add(varName);
    console.warn(`${varName}=${raw} (var) overrides ${JSON.stringify(fromCode)} set in the room's serverSettings()`);
  }
  return value;
}

function origins(raw: string): "*" | string[] {
  const trimmed = raw.trim();
  return trimmed === "*" ? "*" : trimmed.split(",").map((o) => o.trim()).filter(Boolean);
}

function codeOrigins(origin: "*" | string | readonly string[] | undefined): "*" | string[] | undefined {
  if (origin === undefined) return undefined;
  if (origin === "*") return "*";
  return typeof origin === "string" ? [origin] : [...origin];
}

/**
 * The options of a room: for each one, a var that is set wins, then what the
 * room's class set in code, then socket.io's default.
 */
export function readServerOptions(env: Env, settings: EngineSettings = {}): ServerOptions {
  const int = (name: string) => (raw: string) => positiveInt(raw, 0, name);
  return {
    pingInterval: pick("PING_INTERVAL", env.PING_INTERVAL, int("PING_INTERVAL"), settings.pingInterval, 25_000),
    pingTimeout: pick("PING_TIMEOUT", env.PING_TIMEOUT, int("PING_TIMEOUT"), settings.pingTimeout, 20_000),
    maxHttpBufferSize: pick("MAX_HTTP_BUFFER_SIZE", env.MAX_HTTP_BUFFER_SIZE, int("MAX_HTTP_BUFFER_SIZE"), settings.maxHttpBufferSize, 1_000_000),
    connectTimeout: pick("CONNECT_TIMEOUT", env.CONNECT_TIMEOUT, int("CONNECT_TIMEOUT"), settings.connectTimeout, 45_000),
    packetRate: {
      perSecond: pick("MAX_PACKET_RATE", env.MAX_PACKET_RATE, (raw) => positiveInt(raw, 0, "MAX_PACKET_RATE", true), settings.maxPacketRate, DEFAULT_PACKET_RATE.perSecond),
      burst: pick("PACKET_BURST", env.PACKET_BURST, int("PACKET_BURST"), settings.packetBurst, DEFAULT_PACKET_RATE.burst),
    },
    pongAutoResponse: (env.PONG_AUTO_RESPONSE ?? "on") !== "off",
    hibernation: (env.HIBERNATION ?? "on") !== "off",
    corsOrigins: pick("CORS_ORIGINS", env.CORS_ORIGINS, origins, codeOrigins(settings.cors?.origin), "*"),
    defaultRoom: env.DEFAULT_ROOM || "lobby",
    connectionStateRecovery: recoveryOptions(env.CONNECTION_STATE_RECOVERY_MS, settings.connectionStateRecovery),
    strictListeners: pick("STRICT_LISTENERS", env.STRICT_LISTENERS, (raw) => raw === "on", settings.strictListeners, false),
    logConnections: pick("LOG_CONNECTIONS", env.LOG_CONNECTIONS, (raw) => raw === "on", settings.logConnections, false),
  };
}

/**
 * Recovery in force: CONNECTION_STATE_RECOVERY_MS when set ("0": off; else the
 * window, ms), else the room's own setting with socket.io's defaults; null: off.
 */
function recoveryOptions(raw: string | undefined, inCode: Partial<ConnectionStateRecovery> | undefined): ConnectionStateRecovery | null {
  if (raw !== undefined && raw.trim() !== "") {
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms < 0) throw new Error(`CONNECTION_STATE_RECOVERY_MS must be 0 or a number of milliseconds, got "${raw}"`);
    return ms === 0 ? null : { ...DEFAULT_RECOVERY, ...inCode, maxDisconnectionDuration: ms };
  }
  return inCode === undefined ? null : { ...DEFAULT_RECOVERY, ...inCode };
}
