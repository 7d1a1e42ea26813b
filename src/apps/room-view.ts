import type { RoomStatsReport } from "../rest/commands";
import type { Server } from "../server/server";
import type { Socket } from "../server/socket";
import type { ConnectionState, DisconnectReason } from "../server/types";

/**
 * The live room view: a namespace of the room that shows who is in it.
 *
 * Presence needs the server (a relay only passes client events along), and a
 * browser must not hold the REST API's key. So a client that wants the view
 * opens this namespace on its connection (`manager.socket("/_view")`); it gets
 * the member list at once, then `join`, `leave` and `transport` events as they
 * happen, and the room's stats when it asks. Clients that do not open it see
 * no traffic of it, and the relay leaves it alone. Members are the sockets of
 * every other namespace; their name is `auth.name` from their handshake, if any.
 *
 * What it shows (socket ids, names, transports, the room's counters) is what
 * any member of the room could learn anyway by watching it; turn it off with
 * ROOM_VIEW = "off" where that is too much, or limit the namespace with JWT claims.
 */
export const VIEW_NAMESPACE = "/_view";

/** A socket as the view shows it. */
export interface ViewMember {
  id: string;
  namespace: string;
  /** `auth.name` of the handshake (trimmed to 40 characters), or null. */
  name: string | null;
  /** "websocket" or "polling" (a connection probing an upgrade is still polling). */
  transport: string;
  connectedAt: number;
}

/** What the room gives the view. */
export interface ViewSource {
  transportOf(socket: Socket<any, any, any>): string;
  stats(): Promise<RoomStatsReport>;
}

type AnySocket = Socket<any, any, any>;

const MAX_NAME = 40;
/** The stats report is built at most this often per room; viewers asking meanwhile share it. */
const STATS_INTERVAL_MS = 1000;

export function readRoomViewEnabled(env: { ROOM_VIEW?: string }): boolean {
  return (env.ROOM_VIEW ?? "on") !== "off";
}

export class RoomView {
  private latestStats: { at: number; report: Promise<RoomStatsReport> } | null = null;

  constructor(
    private readonly io: Server,
    private readonly source: ViewSource,
  ) {
    // A pattern, not io.of(name): the namespace exists only while viewers are connected.
    const view = io.of((name: string) => name === VIEW_NAMESPACE);
    view.on("connection", (socket) => socket.emit("members", this.members()));
    view.onSocket((socket) => {
      socket.on("stats", (ack: unknown) => {
        if (typeof ack === "function") return this.stats().then((report) => ack(report));
      });
    });
  }

  private stats(): Promise<RoomStatsReport> {
    const now = Date.now();
    if (this.latestStats === null || now - this.latestStats.at >= STATS_INTERVAL_MS) {
      this.latestStats = { at: now, report: this.source.stats() };
    }
    return this.latestStats.report;
  }

  /** Every member, oldest first. */
  members(): ViewMember[] {
    const members: ViewMember[] = [];
    for (const nsp of this.io.all()) {
      if (nsp.name === VIEW_NAMESPACE) continue;
      for (const socket of nsp.sockets.values()) members.push(this.describe(socket));
    }
    return members.sort((a, b) => a.connectedAt - b.connectedAt);
  }

  joined(socket: AnySocket): void {
    if (socket.nsp.name !== VIEW_NAMESPACE) this.publish("join", this.describe(socket));
  }

  left(socket: AnySocket, reason: DisconnectReason): void {
    if (socket.nsp.name !== VIEW_NAMESPACE) this.publish("leave", { id: socket.id, namespace: socket.nsp.name, reason });
  }

  /** A connection changed transport (an upgrade): its members are shown with the new one. */
  transportChanged(connection: ConnectionState): void {
    for (const [name, record] of Object.entries(connection.sockets)) {
      const socket = name === VIEW_NAMESPACE ? undefined : this.io.existing(name)?.sockets.get(record.id);
      if (socket) this.publish("transport", { id: socket.id, transport: this.source.transportOf(socket) });
    }
  }

  private publish(event: string, payload: unknown): void {
    const view = this.io.existing(VIEW_NAMESPACE);
    if (view !== undefined && view.size > 0) view.emit(event, payload);
  }

  private describe(socket: AnySocket): ViewMember {
    const name = socket.handshake.auth.name;
    return {
      id: socket.id,
      namespace: socket.nsp.name,
      name: typeof name === "string" && name.trim() !== "" ? name.trim().slice(0, MAX_NAME) : null,
      transport: this.source.transportOf(socket),
      connectedAt: socket.handshake.issued,
    };
  }
}
