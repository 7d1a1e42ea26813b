import { ConnectError, SocketIORoom, type Server } from "../../../src/index";

/** Events the browser sends. */
export interface ClientToServer {
  "set nick": (nick: string, ack: (result: { ok: true } | { ok: false; error: string }) => void) => void;
  message: (text: string, ack: (receipt: { id: number; at: number }) => void) => void;
  typing: (typing: boolean) => void;
}

/** Events the room sends. */
export interface ServerToClient {
  history: (messages: ChatMessage[]) => void;
  message: (message: ChatMessage) => void;
  typing: (who: { nick: string; typing: boolean }) => void;
  "user joined": (nick: string) => void;
  "user left": (nick: string) => void;
  "nick changed": (change: { from: string; to: string }) => void;
}

export interface ChatMessage {
  id: number;
  from: string;
  text: string;
  at: number;
}

interface SocketData {
  nick: string;
}

const NICK = /^[\p{L}\p{N}_-]{1,24}$/u;
const MAX_TEXT = 2000;
const HISTORY = 50;

/**
 * A chat room: nicknames (checked at connect, changeable), typing indicators
 * (volatile), messages acknowledged with their id once stored, and the last
 * messages kept in the room's storage for whoever joins next.
 */
export class ChatRoom extends SocketIORoom<ClientToServer, ServerToClient, SocketData> {
  protected override setup(io: Server<ClientToServer, ServerToClient, SocketData>): void {
    io.use((socket, next) => {
      const nick = socket.handshake.auth.nick;
      if (typeof nick !== "string" || !NICK.test(nick)) return next(new ConnectError("Pick a nickname: 1 to 24 letters, digits, _ or -"));
      next();
    });

    io.on("connection", async (socket) => {
      socket.data = { nick: socket.handshake.auth.nick as string };
      socket.emit("history", await this.history());
      socket.broadcast.emit("user joined", socket.data.nick);
    });

    io.onSocket((socket) => {
      socket.on("set nick", (nick, ack) => {
        if (typeof nick !== "string" || !NICK.test(nick)) return ack({ ok: false, error: "1 to 24 letters, digits, _ or -" });
        const from = socket.data.nick;
        socket.data.nick = nick;
        socket.broadcast.emit("nick changed", { from, to: nick });
        ack({ ok: true });
      });

      socket.on("message", async (text, ack) => {
        if (typeof text !== "string" || text.length === 0 || text.length > MAX_TEXT) return;
        const message = await this.store(socket.data.nick, text);
        socket.broadcast.emit("message", message);
        if (typeof ack === "function") ack({ id: message.id, at: message.at });
      });

      socket.on("typing", (typing) => {
        socket.broadcast.volatile.emit("typing", { nick: socket.data.nick, typing: Boolean(typing) });
      });

      socket.on("disconnect", () => socket.broadcast.emit("user left", socket.data.nick));
    });
  }

  private async history(): Promise<ChatMessage[]> {
    return (await this.ctx.storage.get<ChatMessage[]>("chat:history")) ?? [];
  }

  /** Stores a message; its id is the room's sequence number, kept in storage across hibernation. */
  private async store(from: string, text: string): Promise<ChatMessage> {
    const history = await this.history();
    const id = ((await this.ctx.storage.get<number>("chat:seq")) ?? 0) + 1;
    const message = { id, from, text, at: Date.now() };
    await this.ctx.storage.put({ "chat:seq": id, "chat:history": [...history, message].slice(-HISTORY) });
    return message;
  }
}
