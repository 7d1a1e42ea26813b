import type { Env } from "../config";
import type { SocketIORoom } from "../room/socketio-room";
import { ApiError } from "./errors";

export type RoomStub = DurableObjectStub<SocketIORoom>;

/** The room object of a top-level room name (the `room` a Socket.IO client picks), for RPC. */
export function roomStub(env: Env, room: string): RoomStub {
  // Env declares ROOMS untyped; every class bound to it is a SocketIORoom, whose RPC methods these are.
  const rooms = env.ROOMS as unknown as DurableObjectNamespace<SocketIORoom>;
  return rooms.get(rooms.idFromName(room));
}

/**
 * Calls a room object; a failure of the call (object overloaded, reset, or an
 * exception in it) becomes a JSON error: 503 when the runtime says a retry may
 * succeed, else 500. A retry with the same Idempotency-Key is always safe.
 */
export async function callRoom<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw roomFailure(error);
  }
}

export function roomFailure(error: unknown): ApiError {
  const flags = error as { retryable?: boolean; overloaded?: boolean };
  console.error("REST API: room call failed:", error);
  if (flags?.retryable || flags?.overloaded) {
    return new ApiError(503, "room_unavailable", "The room is temporarily unavailable; retry", { "Retry-After": "1" });
  }
  return new ApiError(500, "internal_error", "The room failed to process the request");
}
