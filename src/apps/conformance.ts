/**
 * The servers the official protocol test suites expect (socket.io repository:
 * docs/engine.io-protocol/v4-test-suite and docs/socket.io-protocol/v5-test-suite),
 * served by `npm run dev:conformance`.
 */
import { EngineRoom } from "../room/engine-room";
import type { EngineSession } from "../engine.io/session";
import { SocketIORoom } from "../room/socketio-room";
import type { Server } from "../server/server";

/** `/engine.io/`: a raw Engine.IO server that echoes every message. */
export class EngineEchoRoom extends EngineRoom<null> {
  protected override initialState(): null {
    return null;
  }

  protected override onEngineMessage(session: EngineSession<null>, data: string | ArrayBuffer): void {
    session.send(this.encodeMessage([data]));
  }
}

/** `/socket.io/`: namespaces "/" and "/custom", echo and ack handlers. */
export class ConformanceRoom extends SocketIORoom {
  protected override setup(io: Server): void {
    for (const name of ["/", "/custom"]) {
      io.of(name)
        .on("connection", (socket) => socket.emit("auth", socket.handshake.auth))
        .event("message", (socket, ...args) => socket.emit("message-back", ...args))
        .event("message-with-ack", (_socket, ...args) => {
          const ack = args.pop() as (...a: unknown[]) => void;
          ack(...args);
        });
    }
  }
}
