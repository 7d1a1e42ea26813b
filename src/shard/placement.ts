/**
 * Where a new connection of a sharded room goes. Pure: the placement object
 * (src/shard/rpc.ts) keeps the counts and calls this on each handshake.
 *
 * Rule: the fullest shard that still has room and is not empty, so a room packs
 * its connections into as few shards as it can; failing that, the lowest-numbered
 * empty shard (a new one when every shard is full). A shard that emptied is
 * therefore only used again when all the others are full: it stays idle and
 * costs nothing meanwhile.
 */
export function chooseShard(counts: readonly number[], max: number): number {
  let best = -1;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (n > 0 && n < max && (best < 0 || n > counts[best])) best = i;
  }
  if (best >= 0) return best;
  const empty = counts.findIndex((n) => n <= 0);
  return empty >= 0 ? empty : counts.length;
}
