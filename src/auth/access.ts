import { AuthError } from "./errors";
import type { JwtClaims } from "./token";

/**
 * Access claims. `rooms` and `namespaces`, when present, are arrays of names
 * the token may enter. An entry is an exact name, "*" (anything), or a prefix
 * followed by one trailing "*" ("team-*" matches "team-a" and "team-"). A "*"
 * anywhere else is an ordinary character. A missing claim means no limit; an
 * empty array allows nothing. Namespace entries may omit the leading "/".
 */
export function checkAccess(claims: JwtClaims, room: string, namespace: string): void {
  const rooms = accessList(claims, "rooms");
  if (rooms !== undefined && !rooms.some((pattern) => matchesName(pattern, room))) {
    throw new AuthError("room_not_allowed", `token not valid for room ${JSON.stringify(room)}`);
  }
  const namespaces = accessList(claims, "namespaces");
  if (namespaces !== undefined && !namespaces.some((pattern) => matchesName(withSlash(pattern), namespace))) {
    throw new AuthError("namespace_not_allowed", `token not valid for namespace ${JSON.stringify(namespace)}`);
  }
}

/** True when `name` is `pattern`, or starts with what precedes a trailing "*". */
export function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** A malformed list fails closed: reading it as "no limit" would widen access. */
function accessList(claims: JwtClaims, name: "rooms" | "namespaces"): string[] | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === "string")) {
    throw new AuthError("claim_invalid", `invalid "${name}" claim`);
  }
  return value;
}

function withSlash(pattern: string): string {
  return pattern.startsWith("/") || pattern === "*" ? pattern : "/" + pattern;
}
