import { Hono, type Context } from "hono";
import { readServerOptions, type Env } from "../config";
import { EngineError } from "../engine.io/protocol";
import { isOriginAllowed, preflight, withCors } from "./cors";
import { roomForRequest, type RoomTarget } from "./rooms";
// Text modules (wrangler's default rules for .html and .txt): the demo page and
// the browser build of socket.io-client, copied into public/ on npm install.
import demoPage from "../../public/index.html";
import socketIoClient from "../../public/socket.io-client.txt";
import { ROOM_HEADER, SHARD_HEADER } from "../room/ids";
import { restApi } from "../rest/routes";

export const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.html(demoPage));
app.get("/socket.io-client.js", (c) =>
  c.body(socketIoClient, 200, { "Content-Type": "text/javascript; charset=UTF-8", "Cache-Control": "public, max-age=3600" }),
);
app.get("/health", (c) => c.json({ ok: true }));

/** REST API for other backends: publish, presence, socket management (see README, "REST API"). */
app.route("/v1", restApi);

/** Where socket.io serves its client (`serveClient`): pages written for a socket.io server load it from there. */
app.get("/socket.io/socket.io.js", (c) =>
  c.body(socketIoClient, 200, { "Content-Type": "application/javascript; charset=UTF-8", "Cache-Control": "public, max-age=3600" }),
);

/** Socket.IO: every request goes to its room's object, which speaks the protocol. */
app.all("/socket.io/", (c) => forward(c, (url) => roomForRequest(c.env, url, readServerOptions(c.env).defaultRoom)));

/** Raw Engine.IO echo of the conformance configuration only (ENGINE_ECHO is bound there). */
app.all("/engine.io/", (c) => {
  const echo = c.env.ENGINE_ECHO;
  if (!echo) return c.notFound();
  return forward(c, () => ({ stub: echo.get(echo.idFromName("echo")) }));
});

async function forward(
  c: Context<{ Bindings: Env }>,
  target: (url: URL) => RoomTarget | Promise<RoomTarget>,
): Promise<Response> {
  const request = c.req.raw;
  const origin = request.headers.get("Origin");
  if (!isOriginAllowed(origin, readServerOptions(c.env).corsOrigins)) {
    return Response.json(EngineError.FORBIDDEN, { status: 403 });
  }
  if (request.method === "OPTIONS") return preflight(request);
  const found = target(new URL(request.url));
  const routed = found instanceof Promise ? await found : found;
  if ("error" in routed) return withCors(routed.error, origin);
  const response = await routed.stub.fetch(withRoomHeader(request, routed.room, routed.shard));
  return withCors(response, origin);
}

/** Tells the room object its name (it cannot read it from its id) and, in a sharded room, its shard; a client cannot set them. */
function withRoomHeader(request: Request, room: string | undefined, shard: number | undefined): Request {
  const headers = new Headers(request.headers);
  headers.delete(ROOM_HEADER);
  headers.delete(SHARD_HEADER);
  if (room !== undefined) headers.set(ROOM_HEADER, room);
  if (shard !== undefined) headers.set(SHARD_HEADER, String(shard));
  return new Request(request, { headers });
}
