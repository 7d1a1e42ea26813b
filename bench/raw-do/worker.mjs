/**
 * The platform floor for the benchmark: what a Durable Object that does nothing
 * but relay costs. It speaks just enough Engine.IO/Socket.IO for the load
 * generator (an open packet on connect, "40{sid}" in answer to "40", pongs
 * answered by the runtime like the project's) and relays every other frame,
 * verbatim, to ctx.getWebSockets() minus the sender.
 */
import { DurableObject } from "cloudflare:workers";

const OPEN = (sid) =>
  "0" + JSON.stringify({ sid, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 });

let counter = 0;

export class RawRelay extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("3", "6"));
  }

  async fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.send(OPEN(`raw${++counter}`));
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    if (message === "40") {
      ws.send('40{"sid":"raw"}');
      return;
    }
    for (const other of this.ctx.getWebSockets()) {
      if (other === ws) continue;
      try {
        other.send(message);
      } catch {
        // Closing: nothing to deliver to.
      }
    }
  }

  webSocketClose(ws, code) {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // Already closed.
    }
  }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/socket.io/") return new Response("not found", { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("websocket only", { status: 400 });
    }
    const room = url.searchParams.get("room") ?? "lobby";
    return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
  },
};
