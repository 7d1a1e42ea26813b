import { checkAccess } from "./access";
import type { AuthConfig } from "./config";
import { AuthError } from "./errors";
import type { JwtClaims } from "./token";
import { verifyJwt, type VerifyOptions } from "./verify";

export interface ConnectAuthInput {
  /** The CONNECT auth payload's `token` (see tokenFromAuth): anything a client sent. */
  token: unknown;
  /** The room (Durable Object) the client is in. */
  room: string;
  /** The namespace it asks to connect to, with its leading "/". */
  namespace: string;
}

export interface ConnectAuthResult {
  /** The verified claims; null when auth is optional and the client sent no token. */
  claims: JwtClaims | null;
}

/**
 * Decides whether a CONNECT may proceed: verifies the token, then the access
 * claims for this room and namespace. Throws AuthError, whose message is what
 * the client gets in CONNECT_ERROR.
 */
export async function authorizeConnect(
  input: ConnectAuthInput,
  config: AuthConfig,
  options?: VerifyOptions,
): Promise<ConnectAuthResult> {
  const token = normalizeToken(input.token);
  if (token === null) {
    if (config.required) throw new AuthError("token_missing", "authentication required");
    return { claims: null };
  }
  const claims = await verifyJwt(token, config, options);
  checkAccess(claims, input.room, input.namespace);
  return { claims };
}

/** The token in a CONNECT auth payload: `io(url, { auth: { token } })`. Tokens in the query string end up in logs, so none is read there. */
export function tokenFromAuth(auth: unknown): unknown {
  return typeof auth === "object" && auth !== null ? (auth as { token?: unknown }).token : undefined;
}

/** null for "no token"; a "Bearer " prefix, which some clients copy from HTTP, is dropped. */
function normalizeToken(token: unknown): string | null {
  if (token === undefined || token === null || token === "") return null;
  if (typeof token !== "string") throw new AuthError("token_malformed", "malformed token");
  const bare = token.replace(/^Bearer\s+/i, "").trim();
  return bare === "" ? null : bare;
}
