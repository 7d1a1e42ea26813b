/**
 * The Node socket.io 4.x subject of the benchmark: every client joins the room
 * named in its query, and each event is relayed like the project's zero-code
 * relay (socket.broadcast.emit in the same namespace; an ack answers
 * { delivered }). Listens on 127.0.0.1, on a free port it prints on stdout.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

// Anything but /socket.io/ (engine.io takes those) gets a 404, so readiness can be probed.
const http = createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(http, {
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  serveClient: false,
  cors: { origin: "*" },
});

io.on("connection", (socket) => {
  const room = socket.handshake.query.room;
  socket.join(typeof room === "string" ? room : "lobby");
  socket.onAny((event, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    socket.broadcast.emit(event, ...args);
    ack?.({ delivered: socket.nsp.sockets.size - 1 });
  });
});

http.listen(0, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${http.address().port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
