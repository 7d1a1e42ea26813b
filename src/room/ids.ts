/**
 * Engine.IO session ids carry the id of the room object that owns the session,
 * so the Worker routes every later request of the session (polling GET/POST,
 * WebSocket upgrade) to that object without a lookup or sticky sessions.
 */
const OBJECT_ID_LENGTH = 64;
const OBJECT_ID = /^[0-9a-f]{64}$/;

function randomId(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function newSessionId(objectId: DurableObjectId): string {
  return objectId.toString() + randomId(15);
}

/** The hex id of the room object inside a session id, or null if it cannot be one of ours. */
export function objectIdOfSession(sid: string): string | null {
  const hex = sid.slice(0, OBJECT_ID_LENGTH);
  return OBJECT_ID.test(hex) && sid.length > OBJECT_ID_LENGTH ? hex : null;
}

/** A Socket.IO socket id (one per namespace a connection joins). */
export function newSocketId(): string {
  return randomId(15);
}

/** Request header with which the Worker tells a room object its own room name. */
export const ROOM_HEADER = "X-Socketio-Edge-Room";

/** Request header with which the Worker tells a shard of a sharded room its index (src/shard). */
export const SHARD_HEADER = "X-Socketio-Edge-Shard";
