import { ConnectError, SocketIORoom, type Server } from "socketio-edge";

/** What clients send. The last argument of an event with an ack is the callback. */
export interface ClientToServerEvents {
  vote: (option: string, ack: (result: VoteResult) => void) => void;
}

/** What the room sends. */
export interface ServerToClientEvents {
  tally: (tally: Tally) => void;
}

export type Tally = Record<string, number>;
export type VoteResult = { ok: true; tally: Tally } | { ok: false; error: string };

/** Kept per socket (survives hibernation). */
interface SocketData {
  voter: string;
}

const OPTIONS = ["yes", "no"];

/**
 * A poll: each client connects with a voter name, has one vote per name (voting again changes
 * it), and every member of the room sees the tally change. Votes live in the room's storage, so they survive the room being
 * evicted from memory.
 */
export class PollRoom extends SocketIORoom<ClientToServerEvents, ServerToClientEvents, SocketData> {
  protected override setup(io: Server<ClientToServerEvents, ServerToClientEvents, SocketData>): void {
    io.use((socket, next) => {
      const voter = socket.handshake.auth.voter;
      if (typeof voter !== "string" || voter.length === 0 || voter.length > 64) {
        return next(new ConnectError("auth.voter: a name of 1 to 64 characters"));
      }
      next();
    });

    io.on("connection", async (socket) => {
      socket.data = { voter: socket.handshake.auth.voter as string };
      socket.emit("tally", await this.tally());
    });

    io.onSocket((socket) => {
      socket.on("vote", async (option, ack) => {
        // Types say what a well-behaved client sends; a socket may send anything.
        const answer = typeof ack === "function" ? ack : () => {};
        if (typeof option !== "string" || !OPTIONS.includes(option)) {
          return answer({ ok: false, error: `vote one of: ${OPTIONS.join(", ")}` });
        }
        await this.ctx.storage.put(`vote:${socket.data.voter}`, option);
        const tally = await this.tally();
        io.emit("tally", tally);
        answer({ ok: true, tally });
      });
    });
  }

  private async tally(): Promise<Tally> {
    const tally: Tally = Object.fromEntries(OPTIONS.map((option) => [option, 0]));
    const votes = await this.ctx.storage.list<string>({ prefix: "vote:" });
    for (const option of votes.values()) tally[option] = (tally[option] ?? 0) + 1;
    return tally;
  }
}
