import { ConnectError } from "../../src/server/handlers";
import { SocketIORoom } from "../../src/room/socketio-room";
import type { Server, ServerSettings } from "../../src/server/server";

type Ack = (...args: unknown[]) => void;

interface ClientToServer {
  echo: (value: unknown, ack: Ack) => void;
  mutate: (ack: (count: number) => void) => void;
  forbidden: () => void;
}
interface ServerToClient {
  welcome: (id: string) => void;
  question: (q: unknown, answer: (a: unknown) => void) => void;
  vote: (answer: (choice: unknown) => void) => void;
  [event: string]: (...args: any[]) => void;
}
interface SocketData {
  nick?: string;
  count?: number;
}

/** A room with server-side handlers, to test what the relay alone cannot show. */
export class TestRoom extends SocketIORoom<ClientToServer, ServerToClient, SocketData> {
  /** Connection handlers run since the object was constructed. */
  private connectionCount = 0;

  /** Strict listeners, as tests should run: a socket.on outside onSocket throws. */
  protected override serverSettings(): ServerSettings {
    return { strictListeners: true, logConnections: true };
  }

  /** Handshake check: `?refuse` refuses ("Forbidden"), `?refuse=why` with that message, `?slow-refuse` after a delay. */
  protected override allowRequest(request: Request): boolean | string | Promise<boolean | string> {
    const query = new URL(request.url).searchParams;
    if (query.has("refuse")) return query.get("refuse") || false;
    if (query.has("slow-refuse")) return new Promise((resolve) => setTimeout(() => resolve("not now"), 20));
    return true;
  }

  protected override setup(io: Server<ClientToServer, ServerToClient, SocketData>): void {
    // Connect middleware: refuse on request, with data for the client.
    io.use((socket, next) =>
      socket.handshake.auth.deny ? next(new ConnectError("denied by middleware", { reason: "asked" })) : next(),
    );
    io.of("/private").use(async (socket) => {
      if (socket.handshake.auth.token !== "letmein") throw new Error("bad token");
    });

    // Per-socket listeners: rebuilt after every wake, no side effects here.
    io.onSocket((socket) => {
      socket.use(([event], next) => (event === "forbidden" ? next(new Error("not allowed")) : next()));
      socket.on("error", (error: Error) => socket.emit("refused", error.message));
      socket.on("echo", (value, ack) => ack(value));
      socket.on("mutate", (ack) => {
        socket.data.count = (socket.data.count ?? 0) + 1; // a mutation, persisted after the handler
        ack(socket.data.count);
      });
    });

    // A namespace written the socket.io way: under strictListeners, the registration throws at once.
    io.of("/legacy").on("connection", (socket) => {
      try {
        socket.on("echo", (value, ack) => ack(value));
      } catch (error) {
        socket.emit("listener-refused", (error as Error).message);
      }
    });
    io.of("/second").event("handshake", (socket, ack: Ack) => ack(socket.handshake));

    // serverSideEmit from another shard of a sharded room: answered with this shard's socket count.
    io.on("server-ping", (arg: unknown, answer: (response: unknown) => void) => answer(`${arg}:${io.sockets.sockets.size}`));

    io.of("/")
      // Once per connection, never again after a wake.
      .on("connection", (socket) => {
        this.connectionCount++;
        // A socket back through connection state recovery keeps its data (socket.recovered, as in socket.io).
        if (!socket.recovered) socket.data = {};
        socket.emit("welcome", socket.id);
      })
      // Server → client ack: the server asks, the client's answer goes back as the ack.
      .event("ask", (socket, question: unknown, ack: Ack) => socket.emit("question", question, (answer: unknown) => ack(answer)))
      .event("ask-timeout", async (socket, ms: number, ack: Ack) => {
        try {
          ack({ answer: await socket.timeout(ms).emitWithAck("question", "quick?") });
        } catch (error) {
          ack({ error: (error as Error).message });
        }
      })
      .event("poll-all", (_socket, ms: number, ack: Ack) =>
        io.timeout(ms).emit("vote", (error: Error | null, responses: unknown[]) =>
          ack({ error: error?.message ?? null, responses: responses.sort() }),
        ),
      )
      .event("join", async (socket, room: string, ack: Ack) => {
        await socket.join(room); // a Promise in a sharded room: resolved once the other shards can reach it
        ack();
      })
      // Sharded rooms: whole-room operations that reach every shard.
      .event("fetch", async (_socket, room: string | null, ack: Ack) => {
        const sockets = await (room === null ? io : io.in(room)).fetchSockets();
        ack(sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })).sort((a, b) => (a.id < b.id ? -1 : 1)));
      })
      .event("fetch-kind", (socket, ack: Ack) => {
        // fetchSockets() is a Promise in every room, as in socket.io (resolved at once in a room of one object).
        const result: unknown = io.in(socket.id).fetchSockets();
        void (result as Promise<{ id: string }[]>).then((sockets) => ack({ promise: result instanceof Promise, ids: sockets.map((s) => s.id) }));
      })
      .event("fetch-and-emit", async (_socket, room: string, event: string, ack: Ack) => {
        const sockets = await io.in(room).fetchSockets();
        for (const s of sockets) s.emit(event, s.id);
        ack(sockets.length);
      })
      .event("fetch-and-join", async (_socket, room: string, target: string, ack: Ack) => {
        for (const s of await io.in(room).fetchSockets()) s.join(target);
        ack();
      })
      .event("sockets-join", (_socket, room: string, target: string, ack: Ack) => {
        io.in(room).socketsJoin(target);
        ack();
      })
      .event("disconnect-room", (_socket, room: string, ack: Ack) => {
        io.in(room).disconnectSockets();
        ack();
      })
      .event("io-to", (_socket, room: string, event: string, arg: unknown) => io.to(room).emit(event, arg))
      .event("io-emit", (_socket, event: string, arg: unknown) => io.emit(event, arg))
      .event("server-side", (_socket, arg: unknown, ack: Ack) =>
        io.serverSideEmit("server-ping", arg, (error: Error | null, responses: unknown[]) =>
          ack({ error: error?.message ?? null, responses: responses.sort() }),
        ),
      )
      .event("leave", (socket, room: string, ack: Ack) => {
        socket.leave(room);
        ack();
      })
      .event("to", (socket, room: string, event: string, ...args: unknown[]) => socket.to(room).emit(event, ...args))
      .event("cross", async (_socket, room: string, subRooms: string[], event: string, arg: unknown, ack: Ack) =>
        ack(await io.room(room).to(subRooms).emit(event, arg)),
      )
      .event("set-data", (socket, data: SocketData, ack: Ack) => {
        socket.data = data;
        ack();
      })
      .event("whoami", (socket, ack: Ack) =>
        ack({ id: socket.id, room: socket.room, rooms: [...socket.rooms], data: socket.data, auth: socket.handshake.auth }),
      )
      .event("claims", (socket, ack: Ack) => ack(socket.handshake.claims ?? null))
      .event("handshake", (socket, ack: Ack) => ack(socket.handshake))
      // What a handler receives for binary arguments, as socket.io on Node (Buffer).
      .event("binary-kinds", (_socket, ...args: unknown[]) => {
        const ack = args.pop() as Ack;
        const kind = (value: unknown): unknown =>
          Buffer.isBuffer(value) ? `Buffer(${[...(value as Uint8Array)].join(",")})` : value instanceof ArrayBuffer ? "ArrayBuffer" : typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, kind(v)])) : typeof value;
        ack(args.map(kind));
      })
      .event("stats", (_socket, ack: Ack) => ack({ connections: this.connectionCount }))
      .event("throw", () => {
        throw new Error("handler failure on purpose");
      })
      .event("kick", (socket) => socket.disconnect());
  }
}
