/**
 * The REST API's operations inside a room object, on its Socket.IO server. The
 * object's RPC methods (SocketIORoom, "REST API (RPC)") delegate here.
 */
import type { BroadcastOperator } from "../server/broadcast";
import type { Server } from "../server/server";
import type { Socket } from "../server/socket";
import type { EmitCommand, EmitOutcome, RoomInfo, RoomStatsReport, SocketDescription, SocketSelector } from "./commands";
import type { IdempotencyLog } from "./idempotency";

/**
 * Emits each command in order. A command whose Idempotency-Key the room has
 * seen (within the window) is not delivered again: its first result is returned.
 */
export function emitAll(io: Server, log: IdempotencyLog, commands: readonly EmitCommand[]): EmitOutcome[] {
  return commands.map((command): EmitOutcome => {
    const claim = command.idempotency;
    if (claim !== undefined) {
      const seen = log.find(claim.key);
      if (seen !== null) {
        if (seen.fingerprint === claim.fingerprint) return { ok: true, sockets: seen.sockets, replayed: true };
        return {
          ok: false,
          status: 422,
          error: {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used for a different request; use a new key for a new publish",
          },
        };
      }
    }
    // Nobody connected: still logged when recovery is on, for the sockets that will come back.
    const target = select(io, command) ?? select(io, command, io.unconnected(command.namespace));
    // Volatile, as in socket.io: skipped for sockets that cannot take it now (a polling client between requests).
    const operator = command.volatile ? target?.volatile : target;
    const sockets = operator ? operator.emit(command.event, ...command.args) : 0;
    if (claim !== undefined) log.remember(claim.key, { fingerprint: claim.fingerprint, sockets });
    return { ok: true, sockets, replayed: false };
  });
}

export function roomInfo(io: Server, connections: number): RoomInfo {
  const namespaces: Record<string, number> = {};
  let sockets = 0;
  for (const nsp of io.all()) {
    if (nsp.size === 0) continue;
    namespaces[nsp.name] = nsp.size;
    sockets += nsp.size;
  }
  return { connections, sockets, namespaces };
}

/** Live connections by transport. */
export function transports(sessions: Iterable<{ transport: string }>): RoomStatsReport["transports"] {
  const counts = { websocket: 0, polling: 0 };
  for (const session of sessions) counts[session.transport === "websocket" ? "websocket" : "polling"]++;
  return counts;
}

export function fetchSockets(io: Server, selector: SocketSelector): SocketDescription[] {
  return (select(io, selector)?.localSocketsSync() ?? []).map(describe);
}

/** Makes the selected sockets join `rooms`; returns how many sockets were selected. */
export function socketsJoin(io: Server, selector: SocketSelector, rooms: string[]): number {
  const target = select(io, selector);
  if (target === null) return 0;
  const count = target.localSocketsSync().length;
  target.socketsJoin(rooms);
  return count;
}

export function socketsLeave(io: Server, selector: SocketSelector, rooms: string[]): number {
  const target = select(io, selector);
  if (target === null) return 0;
  const count = target.localSocketsSync().length;
  target.socketsLeave(rooms);
  return count;
}

/** Disconnects the selected sockets (with `close`, their whole connections); returns how many. */
export function disconnectSockets(io: Server, selector: SocketSelector, close: boolean): number {
  const target = select(io, selector);
  if (target === null) return 0;
  const count = target.localSocketsSync().length;
  target.disconnectSockets(close);
  return count;
}

/** The selected sockets, or null when nobody ever connected to the namespace (which is not created). */
function select(io: Server, selector: SocketSelector, nsp = io.existing(selector.namespace)): BroadcastOperator | null {
  if (nsp === undefined) return null;
  const target = nsp.except(selector.except);
  return selector.rooms.length > 0 ? target.to(selector.rooms) : target;
}

function describe(socket: Socket): SocketDescription {
  return {
    id: socket.id,
    namespace: socket.nsp.name,
    rooms: [...socket.rooms],
    data: socket.data,
    handshake: socket.handshake,
  };
}
