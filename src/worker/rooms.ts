import type { Env } from "../config";
import { EngineError } from "../engine.io/protocol";
import { objectIdOfSession } from "../room/ids";

/** Room names: what fits in a URL and a log line without escaping. */
export const ROOM_NAME = /^[A-Za-z0-9._:@~-]{1,128}$/;

/** The object to forward to; `room` is known when the request named it (not when a sid did). */
export type RoomTarget = { stub: DurableObjectStub; room?: string } | { error: Response };

/**
 * The room object a Socket.IO request belongs to: the one named in the session
 * id once a session exists, else the `room` query parameter (or the default room).
 */
export function roomForRequest(env: Env, url: URL, defaultRoom: string): RoomTarget {
  const sid = url.searchParams.get("sid");
  if (sid !== null) {
    const hex = objectIdOfSession(sid);
    if (hex === null) return { error: Response.json(EngineError.UNKNOWN_SID, { status: 400 }) };
    try {
      return { stub: env.ROOMS.get(env.ROOMS.idFromString(hex)) };
    } catch {
      return { error: Response.json(EngineError.UNKNOWN_SID, { status: 400 }) };
    }
  }
  const room = url.searchParams.get("room") ?? defaultRoom;
  if (!ROOM_NAME.test(room)) return { error: invalidRoom(room) };
  return { stub: env.ROOMS.get(env.ROOMS.idFromName(room)), room };
}

export function invalidRoom(room: string): Response {
  return Response.json(
    {
      code: EngineError.BAD_REQUEST.code,
      message: `Invalid room name ${JSON.stringify(room.slice(0, 200))}: use 1 to 128 letters, digits or . _ : @ ~ -`,
    },
    { status: 400 },
  );
}
