import type { Env } from "../config";
import { EngineError } from "../engine.io/protocol";
import { objectIdOfSession } from "../room/ids";
import { callObject } from "../shard/calls";
import { readShardConfig } from "../shard/config";
import { placementName, shardName } from "../shard/names";

/** Room names: what fits in a URL and a log line without escaping. */
export const ROOM_NAME = /^[A-Za-z0-9._:@~-]{1,128}$/;

/**
 * The object to forward to; `room` is known when the request named it (not when a
 * sid did), `shard` when it is a handshake of a sharded room.
 */
export type RoomTarget = { stub: DurableObjectStub; room?: string; shard?: number } | { error: Response };

/**
 * The room object a Socket.IO request belongs to: the one named in the session
 * id once a session exists, else the `room` query parameter (or the default room).
 */
export function roomForRequest(env: Env, url: URL, defaultRoom: string): RoomTarget | Promise<RoomTarget> {
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
  const shards = readShardConfig(env);
  if (shards.isSharded(room)) return assignShard(env, room, shards.maxConnections);
  return { stub: env.ROOMS.get(env.ROOMS.idFromName(room)), room };
}

/**
 * A handshake of a sharded room: the room's placement object picks the shard
 * (one RPC per new connection; later requests carry the shard's id in their sid
 * and go straight to it).
 */
async function assignShard(env: Env, room: string, max: number): Promise<RoomTarget> {
  const shard = await callObject(env.ROOMS, placementName(room), { op: "assign", room, max });
  return { stub: env.ROOMS.get(env.ROOMS.idFromName(shardName(room, shard))), room, shard };
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
