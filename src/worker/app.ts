import { Hono, type Context } from "hono";
import { readServerOptions, type Env } from "../config";
import { EngineError } from "../engine.io/protocol";
import { isOriginAllowed, preflight, withCors } from "./cors";
import { demoPage } from "./demo-page";
import { roomForRequest } from "./rooms";
// The browser build of socket.io-client, served for the demo page (a Text module, see wrangler.toml).
import socketIoClientBundle from "socket.io-client-bundle";

export const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.html(demoPage()));
app.get("/socket.io-client.js", (c) =>
  c.body(socketIoClientBundle, 200, {
    "Content-Type": "text/javascript; charset=UTF-8",
    "Cache-Control": "public, max-age=3600",
  }),
);
app.get("/health", (c) => c.json({ ok: true }));

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
  target: (url: URL) => { stub: DurableObjectStub } | { error: Response },
): Promise<Response> {
  const request = c.req.raw;
  const origin = request.headers.get("Origin");
  if (!isOriginAllowed(origin, readServerOptions(c.env).corsOrigins)) {
    return Response.json(EngineError.FORBIDDEN, { status: 403 });
  }
  if (request.method === "OPTIONS") return preflight(request);
  const routed = target(new URL(request.url));
  const response = "error" in routed ? routed.error : await routed.stub.fetch(request);
  return withCors(response, origin);
}
