/**
 * Well-behaved socket.io-clients in the fuzz room, one per transport mode, and
 * a sender: the sender emits numbered events with an ack; every observer must
 * receive each of them once, in order, without ever being disconnected.
 */
import { io } from "socket.io-client";

const MODES = { "polling → websocket": ["polling", "websocket"], "websocket only": ["websocket"], "polling only": ["polling"] };

function connect(url, room, transports) {
  const socket = io(url, { query: { room }, transports, forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

export async function startObservers(url, room, event, intervalMs = 20) {
  const observers = await Promise.all(
    Object.entries(MODES).map(async ([mode, transports]) => {
      const socket = await connect(url, room, transports);
      const observer = { mode, socket, seen: [], disconnects: [] };
      socket.on(event, (n) => observer.seen.push(n));
      socket.on("disconnect", (reason) => observer.disconnects.push(reason));
      return observer;
    }),
  );
  const sender = await connect(url, room, ["websocket"]);
  const acks = { sent: 0, answered: 0, failed: [] };
  const timer = setInterval(() => {
    const n = ++acks.sent;
    sender.timeout(10_000).emit(event, n, (error) => (error ? acks.failed.push(n) : acks.answered++));
  }, intervalMs);

  return {
    /** Stops sending, waits for the last events, and reports what each observer got wrong. */
    async finish() {
      clearInterval(timer);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (acks.answered + acks.failed.length < acks.sent || observers.some((o) => o.seen.length < acks.sent))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const problems = [];
      for (const o of observers) {
        const lost = acks.sent - new Set(o.seen).size;
        const duplicated = o.seen.length - new Set(o.seen).size;
        const reordered = o.seen.filter((n, i) => i > 0 && n < o.seen[i - 1]).length;
        if (lost || duplicated || reordered || o.disconnects.length) {
          problems.push(`${o.mode}: ${lost} lost, ${duplicated} duplicated, ${reordered} out of order, disconnects ${JSON.stringify(o.disconnects)}`);
        }
      }
      if (acks.failed.length) problems.push(`sender: ${acks.failed.length} acks unanswered`);
      for (const socket of [sender, ...observers.map((o) => o.socket)]) socket.disconnect();
      return { sent: acks.sent, observers: observers.map((o) => ({ mode: o.mode, received: o.seen.length })), problems };
    },
  };
}
