/**
 * Names of the objects of a sharded room and the ids that point at them. Pure.
 *
 * A sharded room `R` is served by shard objects `R#0`, `R#1`, … (idFromName),
 * one placement object `R#placement` (handshakes only) and directory partitions
 * `R#dir0` … `R#dir15`. `#` cannot appear in a room name, so none of these can
 * be the name of another room.
 */

export const DIRECTORY_PARTITIONS = 16;

export function shardName(room: string, index: number): string {
  return `${room}#${index}`;
}

export function placementName(room: string): string {
  return `${room}#placement`;
}

export function directoryName(room: string, partition: number): string {
  return `${room}#dir${partition}`;
}

/**
 * A directory key: one sub-room of one namespace, or (room "") the namespace
 * itself, which every shard with a socket in the namespace is a member of.
 */
export function membershipKey(namespace: string, room: string): string {
  return `${namespace}\n${room}`;
}

export function namespaceKey(namespace: string): string {
  return membershipKey(namespace, "");
}

/** The directory partition of a key (FNV-1a, 32 bits). */
export function directoryPartition(key: string, partitions = DIRECTORY_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/**
 * Socket ids of a sharded room end with `.` and their shard's index in base 36
 * (the random part is base64url, which has no `.`), so `io.to(socketId)` goes
 * straight to the socket's shard without a directory read.
 */
export function shardSocketId(random: string, shard: number): string {
  return `${random}.${shard.toString(36)}`;
}

export function shardOfSocketId(id: string): number | null {
  const dot = id.lastIndexOf(".");
  if (dot <= 0 || dot === id.length - 1 || id.length - dot > 8) return null;
  const digits = id.slice(dot + 1);
  if (!/^[0-9a-z]+$/.test(digits)) return null;
  return parseInt(digits, 36);
}

/** Socket ids of a sharded room: 20 base64url characters, ".", the shard in base 36. */
const SHARD_SOCKET_ID = /^[A-Za-z0-9_-]{20}\.[0-9a-z]{1,6}$/;

/** The shard a room name points at when it is a socket id of a sharded room, else null. */
export function shardOfRoom(room: string): number | null {
  return SHARD_SOCKET_ID.test(room) ? shardOfSocketId(room) : null;
}

/**
 * The shards holding sockets of `nsp` in any of `rooms` (the whole namespace
 * when empty): a socket id names its shard; other rooms are looked up.
 */
export async function resolveShards(
  nsp: string,
  rooms: readonly string[],
  lookup: (key: string) => Promise<readonly number[]> | readonly number[],
): Promise<Set<number>> {
  const found = new Set<number>();
  if (rooms.length === 0) {
    for (const s of await lookup(namespaceKey(nsp))) found.add(s);
    return found;
  }
  const keys: string[] = [];
  for (const room of rooms) {
    const direct = shardOfRoom(room);
    if (direct !== null) found.add(direct);
    else keys.push(membershipKey(nsp, room));
  }
  for (const shards of await Promise.all(keys.map((key) => lookup(key)))) for (const s of shards) found.add(s);
  return found;
}
