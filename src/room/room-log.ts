/**
 * Structured log lines of a room: one JSON object per line, for `wrangler tail`
 * and Workers Logs (which index the fields). Errors, and connects and
 * disconnects where `logConnections` is on: nothing on the per-message path.
 */

export interface RoomLogLine {
  event: "connect" | "disconnect" | "error";
  room: string;
  /** Engine.IO session id (one client connection). */
  sid: string;
  namespace?: string;
  /** Socket.IO socket id in `namespace`. */
  socket?: string;
  transport?: string;
  /** Error kind, as the room's stats count it (see src/room/room-stats.ts). */
  kind?: string;
  reason?: string;
}

export function logRoomEvent(line: RoomLogLine): void {
  const text = JSON.stringify(line);
  if (line.event === "error") console.warn(text);
  else console.log(text);
}
