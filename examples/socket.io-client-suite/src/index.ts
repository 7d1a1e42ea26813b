/**
 * The test server of socket.io-client's suite (packages/socket.io-client/test/support/server.ts
 * in socketio/socket.io), written on this project's API the way a socket.io user would port it:
 * only the changes docs/porting.md lists (entry point, options in serverSettings(), listeners in
 * onSocket, socket.request → socket.handshake, per-socket variables in socket.data).
 */
import { SocketIORoom, worker, type Server, type ServerSettings, type Socket } from "../../../src/index";

type Callback = (...args: unknown[]) => void;

/** What the original checks with expect.js: a failed check throws in the handler (logged by the room). */
function check(condition: unknown, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

interface Flags {
  receivedAbuff1?: boolean;
  receivedBlob1?: boolean;
  receivedBlob2?: boolean;
}

export class ClientSuiteRoom extends SocketIORoom {
  // socket.io: new Server(3210, { pingInterval, connectionStateRecovery, allowRequest })
  protected override serverSettings(): ServerSettings {
    return {
      pingInterval: 2000,
      connectionStateRecovery: {},
      allowRequest: (_request, callback) => {
        // A short delay, so that the client's connection timeout can be tested.
        setTimeout(() => callback(null, true), 10);
      },
    };
  }

  protected override setup(io: Server): void {
    io.of("/foo").onSocket((socket) => {
      socket.on("getId", (cb: Callback) => cb(socket.id));
    });

    // Namespaces the tests connect to without handlers of their own.
    io.of("/timeout_socket");
    io.of("/valid");
    io.of("/asd");

    io.of("/abc").on("connection", (socket) => {
      socket.emit("handshake", socket.handshake);
    });

    io.use((socket, next) => {
      if (socket.handshake.query.fail) return next(new Error("Auth failed (main namespace)"));
      next();
    });

    io.of("/no").use((_socket, next) => {
      next(new Error("Auth failed (custom namespace)"));
    });

    // Per-socket variables (socket.io: `let receivedAbuff1 = false` in the connection handler) live in socket.data.
    io.on("connection", (socket) => {
      socket.data = {};
    });

    io.onSocket((socket: Socket<any, any, Flags>) => {
      socket.on("hi", () => {
        socket.emit("hi");
      });

      socket.on("echo", (arg: unknown, cb: Callback) => {
        cb(arg);
      });

      socket.on("ack", () => {
        socket.emit("ack", (a: number, b: { test?: boolean }) => {
          if (a === 5 && b.test) socket.emit("got it");
        });
      });

      socket.on("getAckDate", (_data: unknown, cb: Callback) => {
        cb(new Date());
      });

      socket.on("getDate", () => {
        socket.emit("takeDate", new Date());
      });

      socket.on("getDateObj", () => {
        socket.emit("takeDateObj", { date: new Date() });
      });

      socket.on("getUtf8", () => {
        for (const text of ["てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"]) {
          socket.emit("takeUtf8", text);
        }
      });

      socket.on("false", () => {
        socket.emit("false", false);
      });

      socket.on("doge", () => {
        socket.emit("doge", Buffer.from("asdfasdf", "utf8"));
      });

      // Binary from the client arrives as a Buffer, as on Node.
      socket.on("buffa", (a: unknown) => {
        if (Buffer.isBuffer(a)) socket.emit("buffack");
      });

      socket.on("jsonbuff", (a: { hello: string; message: unknown; goodbye: string }) => {
        check(a.hello === "lol", "a.hello === lol");
        check(Buffer.isBuffer(a.message), "Buffer.isBuffer(a.message)");
        check(a.goodbye === "gotcha", "a.goodbye === gotcha");
        socket.emit("jsonbuff-ack");
      });

      // Binary events arrive in the order they were sent.
      socket.on("abuff1", (a: unknown) => {
        check(Buffer.isBuffer(a), "Buffer.isBuffer(a)");
        socket.data.receivedAbuff1 = true;
      });
      socket.on("abuff2", () => {
        check(socket.data.receivedAbuff1, "socket.data.receivedAbuff1");
        socket.emit("abuff2-ack");
      });

      socket.on("blob", (a: unknown) => {
        if (Buffer.isBuffer(a)) socket.emit("back");
      });

      socket.on("jsonblob", (a: { hello: string; message: unknown; goodbye: string }) => {
        check(a.hello === "lol", "a.hello === lol");
        check(Buffer.isBuffer(a.message), "Buffer.isBuffer(a.message)");
        check(a.goodbye === "gotcha", "a.goodbye === gotcha");
        socket.emit("jsonblob-ack");
      });

      socket.on("blob1", (a: unknown) => {
        check(Buffer.isBuffer(a), "Buffer.isBuffer(a)");
        socket.data.receivedBlob1 = true;
      });
      socket.on("blob2", (a: unknown) => {
        check(socket.data.receivedBlob1, "socket.data.receivedBlob1");
        check(a === "second", "a === second");
        socket.data.receivedBlob2 = true;
      });
      socket.on("blob3", (a: unknown) => {
        check(Buffer.isBuffer(a), "Buffer.isBuffer(a)");
        check(socket.data.receivedBlob1, "socket.data.receivedBlob1");
        check(socket.data.receivedBlob2, "socket.data.receivedBlob2");
        socket.emit("blob3-ack");
      });

      socket.on("getbin", () => {
        socket.emit("takebin", Buffer.from("asdfasdf", "utf8"));
      });

      socket.on("getHandshake", (cb: Callback) => {
        cb(socket.handshake);
      });

      socket.on("getId", (cb: Callback) => {
        cb(socket.id);
      });
    });
  }
}

export default worker;
