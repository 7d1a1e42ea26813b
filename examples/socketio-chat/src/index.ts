/**
 * socket.io's chat example (examples/chat in socketio/socket.io) ported to a
 * room: docs/porting.md walks through every change. The browser side is
 * socket.io's, unchanged: serve its public/ folder as this Worker's assets.
 */
import { SocketIORoom, worker, type Server, type Socket } from "../../../src/index";

interface ClientToServer {
  "add user": (username: string) => void;
  "new message": (message: string) => void;
  typing: () => void;
  "stop typing": () => void;
}
interface ServerToClient {
  login: (info: { numUsers: number }) => void;
  "new message": (message: { username: string; message: string }) => void;
  "user joined": (info: { username: string; numUsers: number }) => void;
  "user left": (info: { username: string; numUsers: number }) => void;
  typing: (info: { username: string }) => void;
  "stop typing": (info: { username: string }) => void;
}
/** socket.io keeps `socket.username` and the `addedUser` closure; here both are the socket's data. */
interface SocketData {
  username?: string;
}

type ChatServer = Server<ClientToServer, ServerToClient, SocketData>;

export class ChatRoom extends SocketIORoom<ClientToServer, ServerToClient, SocketData> {
  protected override setup(io: ChatServer): void {
    // socket.io keeps `let numUsers` in a module variable; here it is counted from the sockets, which survive hibernation.
    const numUsers = () => [...io.sockets.sockets.values()].filter((socket) => socket.data.username !== undefined).length;

    io.onSocket((socket: Socket<ClientToServer, ServerToClient, SocketData>) => {
      socket.on("new message", (message) => {
        socket.broadcast.emit("new message", { username: socket.data.username!, message });
      });

      socket.on("add user", (username) => {
        if (socket.data.username !== undefined) return;
        socket.data = { username };
        socket.emit("login", { numUsers: numUsers() });
        socket.broadcast.emit("user joined", { username, numUsers: numUsers() });
      });

      socket.on("typing", () => {
        socket.broadcast.emit("typing", { username: socket.data.username! });
      });

      socket.on("stop typing", () => {
        socket.broadcast.emit("stop typing", { username: socket.data.username! });
      });

      socket.on("disconnect", () => {
        if (socket.data.username === undefined) return;
        socket.broadcast.emit("user left", { username: socket.data.username, numUsers: numUsers() });
      });
    });
  }
}

export default worker;
