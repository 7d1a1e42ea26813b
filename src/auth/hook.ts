import { AuthError } from "./errors";
import type { JwtClaims } from "./token";

/** What a custom auth hook sees of a CONNECT. */
export interface AuthHookContext {
  room: string;
  /** With its leading "/". */
  namespace: string;
  /** The CONNECT auth payload (`io(url, { auth })`), `{}` when the client sent none. */
  auth: Record<string, unknown>;
  handshake: {
    query: Record<string, string>;
    headers: Record<string, string>;
    address: string | null;
  };
  /** Claims of the verified JWT when JWT verification is configured and a token was sent, else null. */
  claims: JwtClaims | null;
}

/**
 * Custom authentication, run for every CONNECT (after JWT verification, when
 * that is configured). Throw to refuse: the thrown error's message is the
 * CONNECT_ERROR message the client sees, as with socket.io middleware. The
 * returned record, if any, is the identity the room keeps for the socket.
 */
export type AuthHook = (
  context: AuthHookContext,
) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

/** Runs a hook and turns whatever it throws into an AuthError. Returns its identity, or null. */
export async function runAuthHook(hook: AuthHook, context: AuthHookContext): Promise<Record<string, unknown> | null> {
  let identity: Record<string, unknown> | void;
  try {
    identity = await hook(context);
  } catch (error) {
    if (error instanceof AuthError) throw error;
    const message = error instanceof Error && error.message ? error.message : "not authorized";
    throw new AuthError("refused", message);
  }
  return typeof identity === "object" && identity !== null ? identity : null;
}
