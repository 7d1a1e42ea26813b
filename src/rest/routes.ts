/**
 * The REST API, mounted at /v1 by the Worker: other backends publish to rooms,
 * read presence and manage sockets over HTTP. Reference: GET /v1/openapi.json;
 * guide: README, "REST API".
 */
import { Hono, type MiddlewareHandler } from "hono";
import { readServerOptions, type Env } from "../config";
import { isOriginAllowed, preflight, withCors } from "../worker/cors";
import { requireApiKey } from "./auth";
import { encodeBinaryJson } from "./binary-json";
import { readJsonObject } from "./body";
import type { EmitOutcome } from "./commands";
import { ApiError } from "./errors";
import { openApiDocument } from "./openapi";
import { callRoom, roomFailure } from "./rooms";
import { roomApi } from "../shard/room-api";
import {
  parseBatch,
  parseEmit,
  parseIdempotencyKey,
  parseOptionalBoolean,
  parseRoomList,
  parseRoomName,
  parseSelector,
  parseSelectorQuery,
} from "./validation";

type Api = { Bindings: Env };

export const restApi = new Hono<Api>();

restApi.onError((error) => {
  if (error instanceof ApiError) return error.toResponse();
  console.error("REST API: unexpected error:", error);
  return new ApiError(500, "internal_error", "Unexpected error").toResponse();
});

restApi.use("*", cors());

// The description of the API is public: it holds no secret, and tools fetch it without a key.
restApi.get("/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin)));

restApi.use("*", requireApiKey());

/** Publish one event to the sockets of a room. */
restApi.post("/rooms/:room/emit", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const key = parseIdempotencyKey(c.req.header("Idempotency-Key"));
  const body = await readJsonObject(c.req.raw);
  const command = parseEmit(body);
  if (key !== null) command.idempotency = { key: `emit:${key}`, fingerprint: await fingerprint(body) };
  const [outcome] = await callRoom(() => roomApi(c.env, room).restEmit([command]));
  if (!outcome.ok) throw new ApiError(outcome.status, outcome.error.code, outcome.error.message);
  return c.json(
    { sockets: outcome.sockets, replayed: outcome.replayed },
    200,
    outcome.replayed ? { "Idempotent-Replayed": "true" } : {},
  );
});

/** Publish many events to many rooms; every item is validated before any is delivered. */
restApi.post("/emit", async (c) => {
  const key = parseIdempotencyKey(c.req.header("Idempotency-Key"));
  const items = parseBatch(await readJsonObject(c.req.raw));
  if (key !== null) {
    // Each item is remembered by its own room, under the request's key and its position.
    await Promise.all(
      items.map(async (item, i) => {
        item.command.idempotency = { key: `batch:${key}#${i}`, fingerprint: await fingerprint(item.source) };
      }),
    );
  }
  // One call per room object, with that room's items in request order.
  const byRoom = new Map<string, number[]>();
  items.forEach((item, i) => {
    const indexes = byRoom.get(item.room);
    if (indexes) indexes.push(i);
    else byRoom.set(item.room, [i]);
  });

  const outcomes: EmitOutcome[] = new Array(items.length);
  await Promise.all(
    [...byRoom].map(async ([room, indexes]) => {
      let results: EmitOutcome[];
      try {
        results = await roomApi(c.env, room).restEmit(indexes.map((i) => items[i].command));
      } catch (error) {
        const failure = roomFailure(error);
        results = indexes.map(() => ({ ok: false, status: failure.status, error: failure.body.error }));
      }
      indexes.forEach((index, j) => (outcomes[index] = results[j]));
    }),
  );
  return c.json({ results: outcomes.map((outcome, i) => ({ room: items[i].room, ...outcome })) });
});

/** Presence: connections and sockets per namespace. */
restApi.get("/rooms/:room", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const info = await callRoom(() => roomApi(c.env, room).restInfo());
  return c.json({ room, ...info });
});

/** Operator stats: live connections by transport and namespace, counters since start and per minute. */
restApi.get("/rooms/:room/stats", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const stats = await callRoom(() => roomApi(c.env, room).restStats());
  return c.json({ room, ...stats });
});

/** The selected sockets, like socket.io's fetchSockets(). */
restApi.get("/rooms/:room/sockets", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const selector = parseSelectorQuery(new URL(c.req.url));
  const sockets = await callRoom(() => roomApi(c.env, room).restFetchSockets(selector));
  return c.json({ room, sockets: encodeBinaryJson(sockets) });
});

restApi.post("/rooms/:room/join", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const body = await readJsonObject(c.req.raw);
  const selector = parseSelector(body, ["join"]);
  const rooms = parseRoomList(body, "join");
  const sockets = await callRoom(() => roomApi(c.env, room).restSocketsJoin(selector, rooms));
  return c.json({ sockets });
});

restApi.post("/rooms/:room/leave", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const body = await readJsonObject(c.req.raw);
  const selector = parseSelector(body, ["leave"]);
  const rooms = parseRoomList(body, "leave");
  const sockets = await callRoom(() => roomApi(c.env, room).restSocketsLeave(selector, rooms));
  return c.json({ sockets });
});

/** Disconnects the selected sockets (all of the namespace by default). */
restApi.post("/rooms/:room/disconnect", async (c) => {
  const room = parseRoomName(c.req.param("room"));
  const body = await readJsonObject(c.req.raw, { emptyIsObject: true });
  const selector = parseSelector(body, ["close"]);
  const close = parseOptionalBoolean(body, "close");
  const sockets = await callRoom(() => roomApi(c.env, room).restDisconnectSockets(selector, close));
  return c.json({ sockets });
});

// Known paths with another method: 405 (registered after the routes, so only reached when none matched).
for (const [path, allowed] of [
  ["/openapi.json", "GET"],
  ["/emit", "POST"],
  ["/rooms/:room", "GET"],
  ["/rooms/:room/emit", "POST"],
  ["/rooms/:room/sockets", "GET"],
  ["/rooms/:room/stats", "GET"],
  ["/rooms/:room/join", "POST"],
  ["/rooms/:room/leave", "POST"],
  ["/rooms/:room/disconnect", "POST"],
] as const) {
  restApi.all(path, () => {
    throw new ApiError(405, "method_not_allowed", `Use ${allowed} on this path`, { Allow: allowed });
  });
}

restApi.all("*", (c) => {
  throw new ApiError(404, "not_found", `No such endpoint: ${c.req.method} ${new URL(c.req.url).pathname}`);
});

/** CORS for browsers on the origins CORS_ORIGINS allows (the same setting as the Socket.IO endpoint). */
function cors(): MiddlewareHandler<Api> {
  return async (c, next) => {
    const origin = c.req.header("Origin") ?? null;
    if (origin === null) return next();
    if (!isOriginAllowed(origin, readServerOptions(c.env).corsOrigins)) {
      throw new ApiError(403, "forbidden_origin", `Origin ${origin} is not allowed (CORS_ORIGINS)`);
    }
    if (c.req.method === "OPTIONS") return preflight(c.req.raw);
    await next();
    c.res = withCors(c.res, origin);
    c.res.headers.set("Access-Control-Expose-Headers", "Idempotent-Replayed, Retry-After");
  };
}

/** Digest of a request's content, to tell a retry from another request reusing its key. */
async function fingerprint(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
