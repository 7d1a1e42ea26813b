/**
 * socket.io's `socket.handshake`, built from the request that opened the
 * Engine.IO connection and kept in its attachment (so it survives hibernation
 * and every namespace of the connection sees the same one). Pure.
 */
import { ROOM_HEADER } from "../room/ids";

/** Request headers are kept while they fit in this many characters of JSON (the attachment has 16 KB in all). */
export const MAX_HANDSHAKE_HEADERS_JSON = 4096;

/** What the connection's state keeps of its first request. */
export interface RequestRecord {
  /** Path and query string as sent (socket.io's `req.url`), e.g. `/socket.io/?EIO=4&transport=polling&t=…`. */
  url: string;
  headers: Record<string, string>;
  address: string | null;
  /** The request came over TLS. */
  secure: boolean;
  /** The request had an Origin header (a browser, cross-site or not). */
  xdomain: boolean;
}

export type ParsedQuery = Record<string, string | string[]>;

const INTERNAL_HEADER = ROOM_HEADER.toLowerCase();

export function recordRequest(request: Request): RequestRecord {
  const url = new URL(request.url);
  return {
    url: url.pathname + url.search,
    headers: keptHeaders(request.headers),
    address: request.headers.get("CF-Connecting-IP"),
    secure: url.protocol === "https:",
    xdomain: request.headers.has("Origin"),
  };
}

/**
 * Every header, each whole or not at all, while they fit in
 * MAX_HANDSHAKE_HEADERS_JSON: `cookie` first (a session middleware needs it),
 * then in request order; a header that does not fit is left out.
 */
export function keptHeaders(headers: Headers, budget = MAX_HANDSHAKE_HEADERS_JSON): Record<string, string> {
  const entries = [...headers].filter(([name]) => name !== INTERNAL_HEADER);
  entries.sort(([a], [b]) => Number(b === "cookie") - Number(a === "cookie"));
  const kept: Record<string, string> = {};
  let used = 2; // {}
  for (const [name, value] of entries) {
    const cost = JSON.stringify(name).length + JSON.stringify(value).length + 2; // : and ,
    if (used + cost > budget) continue;
    kept[name] = value;
    used += cost;
  }
  return kept;
}

/** The query of `url` as socket.io parses it: every parameter, a repeated one as an array. */
export function parseQuery(url: string): ParsedQuery {
  const query: ParsedQuery = {};
  const start = url.indexOf("?");
  if (start < 0) return query;
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    const seen = query[key];
    if (seen === undefined) query[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else query[key] = [seen, value];
  }
  return query;
}
