import { requireSecureUrl } from "../http/secure-url";
import type { Env } from "../config";

/** How CONNECT auth tokens are verified. At least one of `secret` and `jwksUrl` is set. */
export interface AuthConfig {
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string;
  /** JWKS document with the RS256 / ES256 public keys. */
  jwksUrl?: string;
  /** When set, the `iss` claim must equal it. */
  issuer?: string;
  /** When set, the `aud` claim (string or array) must contain it. */
  audience?: string;
  /** Tolerance for `exp`, `nbf` and `iat` between clocks; default 30 s. */
  clockSkewSeconds?: number;
  /** true: a client without a token is refused. false: it connects without claims; a bad token is still refused. */
  required: boolean;
}

export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_CLOCK_SKEW_SECONDS = 300;
/** RFC 7518 3.2: an HS256 key must be at least as long as the hash output. */
const MIN_SECRET_BYTES = 32;

type AuthEnv = Pick<
  Env,
  "JWT_SECRET" | "JWT_JWKS_URL" | "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_REQUIRED" | "JWT_CLOCK_SKEW"
>;

/**
 * The auth configuration from vars and secrets, or null when JWT verification
 * is off (neither JWT_SECRET nor JWT_JWKS_URL). Throws on a configuration that
 * would weaken checks without saying so: a short secret, a JWKS URL that is not
 * https, or issuer/audience set with no key to verify against.
 */
export function readAuthConfig(env: AuthEnv): AuthConfig | null {
  // Secrets piped in by `echo` end with a newline.
  const secret = nonEmpty(env.JWT_SECRET);
  const jwksUrl = nonEmpty(env.JWT_JWKS_URL);
  const issuer = nonEmpty(env.JWT_ISSUER);
  const audience = nonEmpty(env.JWT_AUDIENCE);
  if (secret === undefined && jwksUrl === undefined) {
    if (issuer !== undefined || audience !== undefined || nonEmpty(env.JWT_REQUIRED) === "on") {
      throw new Error("JWT_ISSUER, JWT_AUDIENCE or JWT_REQUIRED is set, but neither JWT_SECRET nor JWT_JWKS_URL is");
    }
    return null;
  }
  if (secret !== undefined && new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
    throw new Error(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes (HS256 needs a 256-bit key)`);
  }
  // Keys fetched over plain http could be swapped in transit.
  if (jwksUrl !== undefined) requireSecureUrl("JWT_JWKS_URL", jwksUrl);
  return {
    secret,
    jwksUrl,
    issuer,
    audience,
    clockSkewSeconds: clockSkew(env.JWT_CLOCK_SKEW),
    required: onOff(env.JWT_REQUIRED, true, "JWT_REQUIRED"),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function onOff(value: string | undefined, fallback: boolean, name: string): boolean {
  const v = nonEmpty(value);
  if (v === undefined) return fallback;
  if (v === "on" || v === "off") return v === "on";
  throw new Error(`${name} must be "on" or "off", got "${value}"`);
}

function clockSkew(value: string | undefined): number {
  const v = nonEmpty(value);
  if (v === undefined) return DEFAULT_CLOCK_SKEW_SECONDS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_CLOCK_SKEW_SECONDS) {
    throw new Error(`JWT_CLOCK_SKEW must be a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}, got "${value}"`);
  }
  return n;
}

