import { SocketIORoom } from "../../src/room/socketio-room";
import type { Server } from "../../src/server/server";

type Ack = (...args: unknown[]) => void;

/** A room with server-side handlers, to test what the relay alone cannot show. */
export class TestRoom extends SocketIORoom {
  protected override setup(io: Server): void {
    io.of("/")
      .on("connection", (socket) => socket.emit("welcome", socket.id))
      // Server → client ack: the server asks, the client's answer goes back as the ack.
      .event("ask", (socket, question: unknown, ack: Ack) => socket.emit("question", question, (answer: unknown) => ack(answer)))
      .event("join", (socket, room: string, ack: Ack) => {
        socket.join(room);
        ack();
      })
      .event("leave", (socket, room: string, ack: Ack) => {
        socket.leave(room);
        ack();
      })
      .event("to", (socket, room: string, event: string, ...args: unknown[]) => socket.to(room).emit(event, ...args))
      .event("set-data", (socket, data: unknown, ack: Ack) => {
        socket.data = data;
        ack();
      })
      .event("whoami", (socket, ack: Ack) =>
        ack({ id: socket.id, rooms: [...socket.rooms], data: socket.data, auth: socket.handshake.auth }),
      )
      .event("throw", () => {
        throw new Error("handler failure on purpose");
      })
      .event("kick", (socket) => socket.disconnect());
  }
}
