/**
 * Generators for the HTTP entry points: handshake query strings and headers,
 * REST paths, headers and bodies, and JWTs (valid ones minted here with the
 * fuzz run's secret, and mutations of them).
 */
import { createHmac } from "node:crypto";
import { jsonValue } from "./packets.mjs";
import { mutateBytes, mutateText } from "./random.mjs";

/** encodeURIComponent of any string (lone surrogates replaced, as a browser would). */
const encode = (s) => encodeURIComponent(s.toWellFormed());
const b64url = (data) => Buffer.from(typeof data === "string" ? data : JSON.stringify(data)).toString("base64url");

// --- handshakes ----------------------------------------------------------------

/** A handshake's query string and method: valid ones, and every parameter wrong in turn. */
export function handshakeInput(random, room) {
  const params = [
    ["EIO", random.chance(0.8) ? "4" : random.pick(["3", "5", "", "4x", "04", random.text(3)])],
    ["transport", random.chance(0.7) ? "polling" : random.pick(["websocket", "flashsocket", "", "POLLING", random.text(5)])],
  ];
  if (random.chance(0.85)) params.push(["room", random.chance(0.8) ? room : random.pick(["", "has space", "x".repeat(129), "ok-room", random.text(10)])]);
  if (random.chance(0.2)) params.push(["sid", random.pick(["", "0".repeat(64) + "abc", "zz", "f".repeat(64), random.text(80)])]);
  if (random.chance(0.3)) params.push(["t", random.text(random.size(10))]);
  if (random.chance(0.1)) params.push(["pad", "a".repeat(random.pick([100, 4000, 5000, 20_000]))]);
  if (random.chance(0.2)) params.push([random.text(random.size(8)), random.text(random.size(8))]);
  if (random.chance(0.3)) random.pick(params)[0] = random.pick(["EIO", "transport", "room", "sid"]); // repeated names
  let query = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
  if (random.chance(0.15)) query = mutateText(random, query).replace(/[#\s]/g, "");
  const method = random.chance(0.8) ? "GET" : random.pick(["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);
  const headers = {};
  if (random.chance(0.2)) headers.Origin = random.pick(["https://example.com", "null", "", random.text(10).replace(/[^\x21-\x7e]/g, "o")]);
  if (random.chance(0.1)) headers.Cookie = "c=" + "x".repeat(random.pick([10, 5000]));
  return { query, method, headers };
}

// --- REST ----------------------------------------------------------------------

const REST_EVENTS = ["news", "tick", "connect", "disconnect", "x".repeat(257), "", 7, null];

/** A REST request: a path on the fuzz room (emits only) or on other rooms, headers, a body. */
export function restInput(random, { room, apiKey }) {
  const other = `fuzz-rest-${random.int(5)}`;
  const target = random.pick([
    ["POST", `/v1/rooms/${room}/emit`],
    ["POST", "/v1/emit"],
    ["GET", `/v1/rooms/${other}`],
    ["GET", `/v1/rooms/${other}/stats`],
    ["GET", `/v1/rooms/${other}/sockets?${random.pick(["", "namespace=/", "rooms=a&rooms=b", "sockets=" + random.text(5), "namespace=" + "x".repeat(300)])}`],
    ["POST", `/v1/rooms/${other}/join`],
    ["POST", `/v1/rooms/${other}/leave`],
    ["POST", `/v1/rooms/${other}/disconnect`],
    ["GET", "/v1/openapi.json"],
    [random.pick(["PUT", "DELETE", "PATCH"]), `/v1/rooms/${other}/emit`],
    ["POST", `/v1/rooms/${encode(random.text(random.size(20)))}/emit`],
    ["GET", `/v1/${encode(random.text(random.size(10)))}`],
  ]);
  const [method, path] = target;
  const headers = { "Content-Type": random.chance(0.85) ? "application/json" : random.pick(["text/plain", "", "application/json; charset=latin1"]) };
  const auth = random.int(10);
  if (auth < 7) headers.Authorization = `Bearer ${apiKey}`;
  else if (auth === 7) headers.Authorization = random.pick(["", "Bearer", "Bearer ", `bearer ${apiKey}`, `Basic ${apiKey}`, `Bearer ${apiKey} `]);
  else if (auth === 8) headers.Authorization = `Bearer ${mutateText(random, apiKey).replace(/[^\x21-\x7e]/g, "")}`;
  if (random.chance(0.3)) headers["Idempotency-Key"] = random.pick([`k-${random.int(1e6)}`, "", "two words", "x".repeat(256), random.text(10).replace(/[^\x20-\x7e]/g, "")]);
  let body;
  if (method === "POST") body = restBody(random, path, room);
  return { method, path, headers, body };
}

function restEmitFields(random, room) {
  const emit = {};
  emit.event = random.chance(0.8) ? random.pick(["news", "tick", "e" + random.int(100)]) : random.pick(REST_EVENTS);
  if (random.chance(0.7)) emit.args = random.chance(0.8) ? Array.from({ length: random.size(4) }, () => restArg(random)) : jsonValue(random);
  if (random.chance(0.2)) emit.namespace = random.pick(["/", "/chat", "chat", "", 5]);
  if (random.chance(0.2)) emit.rooms = random.pick([["a"], "a", [1], Array(1001).fill("r"), []]);
  if (random.chance(0.1)) emit.except = random.pick([["b"], null, {}]);
  if (random.chance(0.1)) emit.volatile = random.pick([true, "yes", 1]);
  if (random.chance(0.1)) emit[random.text(4)] = 1;
  if (room !== undefined && random.chance(0.9)) emit.room = room;
  return emit;
}

/** Event arguments for the REST API: JSON, binary wrappers (well or badly formed), deep nesting. */
function restArg(random) {
  switch (random.int(6)) {
    case 0:
      return { $binary: random.pick([Buffer.from(random.bytes(random.size(20))).toString("base64"), "!!", 5, ""]) };
    case 1:
      return { $binary: "AA==", extra: 1 };
    case 2: {
      let value = 1;
      for (let i = random.pick([10, 31, 33, 200]); i > 0; i--) value = [value];
      return value;
    }
    default:
      return jsonValue(random);
  }
}

function restBody(random, path, room) {
  const kind = random.int(10);
  let json;
  if (path.endsWith("/emit") && path !== "/v1/emit") json = restEmitFields(random);
  else if (path === "/v1/emit") {
    const n = random.chance(0.1) ? random.pick([0, 100, 101, 1000]) : random.range(1, 5);
    json = { items: Array.from({ length: n }, () => restEmitFields(random, random.chance(0.9) ? room : "fuzz-rest-0")) };
  } else {
    json = {};
    if (random.chance(0.6)) json[path.endsWith("/join") ? "join" : "leave"] = random.pick([["vip"], "vip", [], [1], Array(1001).fill("r")]);
    if (random.chance(0.3)) json.close = random.pick([true, false, "true"]);
    if (random.chance(0.3)) json.sockets = random.pick([["nope"], "x", [null]]);
  }
  if (kind < 6) return JSON.stringify(json);
  if (kind < 8) return Buffer.from(mutateBytes(random, JSON.stringify(json)));
  if (kind === 8) return random.pick(["", "null", "[]", "{", '"x"', "{}", "\ufeff{}"]);
  return Buffer.from(random.bytes(random.size(300)));
}

// --- JWTs ------------------------------------------------------------------------

function sign(header, claims, secret) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/**
 * A CONNECT auth payload with a token. `valid` says whether the server must
 * accept it: a token minted with the secret, unexpired, for the fuzz room, and
 * not mutated; mutated tokens keep the original to compare decodings with.
 */
export function jwtInput(random, { secret, room }) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const claims = { sub: `u${random.int(1000)}`, exp: now + 600, iat: now - 5 };
  if (random.chance(0.3)) claims.rooms = random.pick([[room], ["fuzz-*"], ["*"]]);
  const valid = sign(header, claims, secret);
  switch (random.int(12)) {
    case 0:
    case 1:
      return { label: "valid token", auth: { token: valid }, valid: true };
    case 2:
      return { label: "expired", auth: { token: sign(header, { ...claims, exp: now - 3600 }, secret) }, valid: false };
    case 3:
      return { label: "not yet valid", auth: { token: sign(header, { ...claims, nbf: now + 3600 }, secret) }, valid: false };
    case 4:
      return { label: "no exp", auth: { token: sign(header, { sub: "u" }, secret) }, valid: false };
    case 5:
      return { label: "another room", auth: { token: sign(header, { ...claims, rooms: random.pick([["other"], [], "x", [1]]) }, secret) }, valid: false };
    case 6:
      return { label: "wrong secret", auth: { token: sign(header, claims, secret + "x") }, valid: false };
    case 7: {
      const alg = random.pick(["none", "HS512", "RS256", "ES256", "hs256", "", null]);
      const token = `${b64url({ ...header, alg })}.${b64url(claims)}.${random.pick(["", valid.split(".")[2]])}`;
      return { label: `alg ${alg}`, auth: { token }, valid: false };
    }
    case 8:
      return {
        label: "claims of wrong types",
        auth: { token: sign(header, { ...claims, [random.pick(["exp", "nbf", "iat", "rooms", "namespaces"])]: random.pick(["soon", null, [], {}, 1e400]) }, secret) },
        valid: false,
      };
    case 9: {
      // With JWT_REQUIRED=off, no token (none, null, "") connects without claims; anything else that is not a valid token is refused.
      const auth = random.pick([{ token: 5 }, { token: null }, { token: {} }, { token: "" }, { token: "a.b.c" }, { token: "x".repeat(5000) }, {}, { token: "Bearer " }]);
      return { label: "token of another type", auth, valid: normalizeToken(auth.token) === null };
    }
    default: {
      // A mutation can leave no token at all ("", "Bearer "), which connects without claims as in case 9.
      const mutated = mutateText(random, valid);
      return { label: "mutated token", auth: { token: mutated }, valid: mutated === valid || normalizeToken(mutated) === null, original: valid };
    }
  }
}

/** The token as the server reads it (docs/auth-and-webhooks.md): a "Bearer " prefix dropped, trimmed; null for none. */
export function normalizeToken(token) {
  if (token === undefined || token === null || token === "") return null;
  if (typeof token !== "string") return token;
  const bare = token.replace(/^Bearer\s+/i, "").trim();
  return bare === "" ? null : bare;
}

/** Whether two compact tokens decode to the same bytes, part by part (a non-canonical base64url twin). */
export function sameDecodedToken(a, b) {
  a = normalizeToken(a);
  if (typeof a !== "string") return false;
  const pa = a.split(".");
  const pb = b.split(".");
  return pa.length === 3 && pb.length === 3 && pa.every((part, i) => Buffer.from(part, "base64url").equals(Buffer.from(pb[i], "base64url")));
}
