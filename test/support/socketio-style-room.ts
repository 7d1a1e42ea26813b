import { SocketIORoom } from "../../src/room/socketio-room";
import type { Server, ServerSettings } from "../../src/server/server";

/**
 * A room written exactly as a socket.io server: listeners registered inside
 * `connection`, options and allowRequest's callback form in server settings.
 * Not strict, to show what happens to such listeners across hibernation.
 */
export class SocketIOStyleRoom extends SocketIORoom {
  protected override serverSettings(): ServerSettings {
    return {
      pingInterval: 4000,
      cors: { origin: ["https://allowed.example"] },
      allowRequest: (request, callback) => {
        const deny = new URL(request.url).searchParams.get("deny");
        setTimeout(() => callback(deny, deny === null), 10);
      },
    };
  }

  protected override setup(io: Server): void {
    io.on("connection", (socket) => {
      socket.emit("hello", socket.id);
      socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
    });
  }
}
