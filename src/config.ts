/** Bindings and vars the Worker and the room objects read (see wrangler.toml). */
export interface Env {
  ROOMS: DurableObjectNamespace;
  ENGINE_ECHO?: DurableObjectNamespace;
  DEFAULT_ROOM?: string;
  PING_INTERVAL?: string;
  PING_TIMEOUT?: string;
  MAX_HTTP_BUFFER_SIZE?: string;
  CONNECT_TIMEOUT?: string;
  CORS_ORIGINS?: string;
  PONG_AUTO_RESPONSE?: string;
  HIBERNATION?: string;
  RELAY?: string;
  RELAY_EVENT_PREFIX?: string;
  /** Connection state recovery window in ms ("0": off); overrides the room's own setting. */
  CONNECTION_STATE_RECOVERY_MS?: string;
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

/** Server options, named as socket.io names them. */
export interface ServerOptions {
  pingInterval: number;
  pingTimeout: number;
  maxHttpBufferSize: number;
  connectTimeout: number;
  /** Answer pongs in the runtime (without waking the object) with a noop. */
  pongAutoResponse: boolean;
  /** Accept WebSockets through the Hibernation API (off: plain accept, object stays in memory). */
  hibernation: boolean;
  corsOrigins: "*" | string[];
  defaultRoom: string;
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

export function readServerOptions(env: Env): ServerOptions {
  const origins = (env.CORS_ORIGINS ?? "*").trim();
  return {
    pingInterval: positiveInt(env.PING_INTERVAL, 25_000, "PING_INTERVAL"),
    pingTimeout: positiveInt(env.PING_TIMEOUT, 20_000, "PING_TIMEOUT"),
    maxHttpBufferSize: positiveInt(env.MAX_HTTP_BUFFER_SIZE, 1_000_000, "MAX_HTTP_BUFFER_SIZE"),
    connectTimeout: positiveInt(env.CONNECT_TIMEOUT, 45_000, "CONNECT_TIMEOUT"),
    pongAutoResponse: (env.PONG_AUTO_RESPONSE ?? "on") !== "off",
    hibernation: (env.HIBERNATION ?? "on") !== "off",
    corsOrigins: origins === "*" ? "*" : origins.split(",").map((o) => o.trim()).filter(Boolean),
    defaultRoom: env.DEFAULT_ROOM || "lobby",
  };
}
