/**
 * The platform floor for the benchmark: what a Durable Object that does nothing
 * but relay costs. It speaks just enough Engine.IO/Socket.IO for the load
 * generator (an open packet on connect, "40{sid}" in answer to "40", pongs
 * answered by the runtime like the project's) and relays every other frame,
 * verbatim, to ctx.getWebSockets() minus the sender. Long-polling clients (the
 * bench's polling phase) get a polling relay as small, among themselves.
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

  async fetch(request) {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return this.polling.fetch(request);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.send(OPEN(`raw${++counter}`));
    const interval = Number(this.env.RAW_PING_INTERVAL);
    if (interval > 0 && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + interval);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * The ping floor (only with the var RAW_PING_INTERVAL, for the idle phase): every
   * interval, "2" to every WebSocket from one alarm and nothing else; pongs are
   * answered by the runtime.
   */
  async alarm() {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send("2");
      } catch {
        // Closing.
      }
    }
    await this.ctx.storage.setAlarm(Date.now() + Number(this.env.RAW_PING_INTERVAL));
  }

  /** Polling clients, relayed among themselves (the polling phase's floor). */
  get polling() {
    return (this._polling ??= new PollingRelay());
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

const RECORD = "\x1e";

/**
 * The polling floor: just enough Engine.IO polling for the bench's polling
 * clients. Sessions in memory; a POST's events are queued for every other
 * session (an event with an ack id is answered { delivered }); a GET returns what
 * is queued, or waits for it. No pings (the open packet asks for none within the phase).
 */
class PollingRelay {
  constructor() {
    /** sid → { queue: string[], wake: (() => void) | null } */
    this.sessions = new Map();
  }

  async fetch(request) {
    const url = new URL(request.url);
    const sid = url.searchParams.get("sid");
    if (sid === null) {
      const id = `rawp${++counter}`;
      this.sessions.set(id, { queue: [], wake: null });
      return new Response("0" + JSON.stringify({ sid: id, upgrades: [], pingInterval: 600000, pingTimeout: 500000, maxPayload: 1000000 }));
    }
    const session = this.sessions.get(sid);
    if (!session) return new Response(JSON.stringify({ code: 1, message: "Session ID unknown" }), { status: 400 });
    if (request.method === "POST") {
      for (const record of (await request.text()).split(RECORD)) this.receive(sid, session, record);
      return new Response("ok");
    }
    if (session.queue.length === 0) await new Promise((resolve) => (session.wake = resolve));
    session.wake = null;
    const body = session.queue.join(RECORD);
    session.queue = [];
    return new Response(body);
  }

  receive(sid, session, record) {
    if (record === "40") return this.push(session, '40{"sid":"raw"}');
    // 4 + "2" + optional ack id + JSON: relay the event, without its ack id.
    const match = /^42(\d*)(\[.*)$/s.exec(record);
    if (!match) return;
    let delivered = 0;
    for (const [other, target] of this.sessions) {
      if (other === sid) continue;
      this.push(target, "42" + match[2]);
      delivered++;
    }
    if (match[1]) this.push(session, `43${match[1]}[{"delivered":${delivered}}]`);
  }

  push(session, packet) {
    session.queue.push(packet);
    session.wake?.();
  }
}

export default {
  fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/socket.io/") return new Response("not found", { status: 404 });
    const room = url.searchParams.get("room") ?? "lobby";
    return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
  },
};
