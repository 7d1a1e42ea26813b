/**
 * Which rooms are sharded (SHARDED_ROOMS) and how full a shard gets
 * (SHARD_MAX_CONNECTIONS). Pure: parsed from the vars, no runtime needed.
 */

/**
 * Connections one shard object takes before new connections of its room go to
 * another shard. Well under the platform's 32,768 hibernatable WebSockets per
 * object, and inside what the bench drives into one object (4,900 receivers):
 * one broadcast's send loop over 5,000 sockets stays in the tens of
 * milliseconds, and a shard's incoming event rate stays a fraction of the
 * object's ~1,000 events/s soft limit when clients send rarely.
 */
export const DEFAULT_SHARD_MAX_CONNECTIONS = 5_000;
/** The platform cap of hibernatable WebSockets per object. */
export const PLATFORM_MAX_CONNECTIONS = 32_768;

const NAME = /^[A-Za-z0-9._:@~-]{1,128}$/;
const PREFIX = /^[A-Za-z0-9._:@~-]{0,127}\*$/;

export interface ShardConfig {
  /** Whether the top-level room `room` is sharded. */
  isSharded(room: string): boolean;
  maxConnections: number;
}

/** `SHARDED_ROOMS`: comma-separated room names, or prefixes ending in `*` (`*` alone: every room). */
export function parseShardedRooms(raw: string | undefined): (room: string) => boolean {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const item of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    if (PREFIX.test(item)) prefixes.push(item.slice(0, -1));
    else if (NAME.test(item)) names.add(item);
    else throw new Error(`SHARDED_ROOMS: "${item}" is neither a room name nor a prefix ending in "*"`);
  }
  if (names.size === 0 && prefixes.length === 0) return () => false;
  return (room) => names.has(room) || prefixes.some((prefix) => room.startsWith(prefix));
}

export function parseShardMaxConnections(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_SHARD_MAX_CONNECTIONS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > PLATFORM_MAX_CONNECTIONS) {
    throw new Error(`SHARD_MAX_CONNECTIONS must be an integer from 1 to ${PLATFORM_MAX_CONNECTIONS}, got "${raw}"`);
  }
  return n;
}

const cache = new Map<string, ShardConfig>();

/** The shard configuration of these vars (parsed once per isolate and vars). */
export function readShardConfig(env: { SHARDED_ROOMS?: string; SHARD_MAX_CONNECTIONS?: string }): ShardConfig {
  const key = `${env.SHARDED_ROOMS ?? ""}\n${env.SHARD_MAX_CONNECTIONS ?? ""}`;
  let config = cache.get(key);
  if (!config) {
    config = { isSharded: parseShardedRooms(env.SHARDED_ROOMS), maxConnections: parseShardMaxConnections(env.SHARD_MAX_CONNECTIONS) };
    cache.set(key, config);
  }
  return config;
}
