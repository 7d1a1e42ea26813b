import type { MiddlewareHandler } from "hono";
import type { Env } from "../config";
import { ApiError } from "./errors";

/**
 * `Authorization: Bearer <key>` against the Worker secrets API_KEY and
 * API_KEY_NEXT (two keys, so a key can be rotated without downtime: set the new
 * one as API_KEY_NEXT, move publishers over, then promote it to API_KEY).
 * With no key configured, every call is refused: the API fails closed.
 */
export function requireApiKey(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const keys = configuredKeys(c.env);
    if (keys.length === 0) {
      throw new ApiError(
        403,
        "api_key_not_configured",
        "The REST API is disabled until an API key is configured: run `wrangler secret put API_KEY` " +
          "(locally, put API_KEY=<key> in .dev.vars, see .dev.vars.example), then send `Authorization: Bearer <key>`.",
      );
    }
    const presented = bearerToken(c.req.header("Authorization"));
    if (presented === null) {
      throw new ApiError(401, "missing_api_key", "Send the API key as `Authorization: Bearer <key>`", {
        "WWW-Authenticate": 'Bearer realm="socketio-edge"',
      });
    }
    if (!(await matchesAny(presented, keys))) {
      throw new ApiError(401, "invalid_api_key", "The API key is not valid", {
        "WWW-Authenticate": 'Bearer realm="socketio-edge", error="invalid_token"',
      });
    }
    await next();
  };
}

/** Configured keys; surrounding whitespace is dropped (a secret piped in by `echo` ends with a newline). */
export function configuredKeys(env: Pick<Env, "API_KEY" | "API_KEY_NEXT">): string[] {
  return [env.API_KEY, env.API_KEY_NEXT].map((key) => key?.trim() ?? "").filter((key) => key !== "");
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1] : null;
}

/**
 * Compares the presented key with every configured key in constant time:
 * digests first, so neither the keys' lengths nor the position of the first
 * differing byte shows in the timing, and no early exit between keys.
 */
async function matchesAny(presented: string, keys: readonly string[]): Promise<boolean> {
  const target = await sha256(presented);
  let matched = false;
  for (const key of keys) matched = equalDigests(target, await sha256(key)) || matched;
  return matched;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
