/**
 * The operator counters of a sharded room: the sum of its shards' (each shard
 * counts what its own connections did). Pure, apart from the objects.
 */
import type { StatsReport } from "../room/room-stats";

const MINUTE = 60_000;

type Tree = { [name: string]: number | number[] | Tree };

/**
 * Sums counters and per-minute series. Each shard reads its clock when asked, so
 * the hours may be a minute apart around a minute's turn: series are aligned on
 * the latest start (the older shard's first minute drops off). The room started
 * when its first shard did and is awake since its last wake.
 */
export function sumStats(reports: readonly StatsReport[]): StatsReport {
  if (reports.length === 0) throw new Error("no stats to sum");
  const start = Math.max(...reports.map((r) => r.perMinute.start));
  const minutes = reports[0].perMinute.minutes;
  const sinceStart = reports.map((r) => r.sinceStart as unknown as Tree).reduce((a, b) => addTrees(a, b, 0));
  const counts = reports.map((r) => shifted(r.perMinute.counts as unknown as Tree, (start - r.perMinute.start) / MINUTE, minutes)).reduce((a, b) => addTrees(a, b, 0));
  return {
    startedAt: Math.min(...reports.map((r) => r.startedAt)),
    awakeSince: Math.max(...reports.map((r) => r.awakeSince)),
    sinceStart: sinceStart as unknown as StatsReport["sinceStart"],
    perMinute: { start, minutes, counts: counts as unknown as StatsReport["perMinute"]["counts"] },
  };
}

/** Adds `b` into a copy of `a`, counter by counter (series index by index). */
function addTrees(a: Tree, b: Tree, depth: number): Tree {
  if (depth > 4) throw new Error("stats nested too deep");
  const sum: Tree = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[name];
    const y = b[name];
    if (Array.isArray(x) || Array.isArray(y)) {
      const xs = (x as number[] | undefined) ?? [];
      const ys = (y as number[] | undefined) ?? [];
      sum[name] = Array.from({ length: Math.max(xs.length, ys.length) }, (_, i) => (xs[i] ?? 0) + (ys[i] ?? 0));
    } else if (typeof x === "object" || typeof y === "object") {
      sum[name] = addTrees((x as Tree | undefined) ?? {}, (y as Tree | undefined) ?? {}, depth + 1);
    } else {
      sum[name] = ((x as number | undefined) ?? 0) + ((y as number | undefined) ?? 0);
    }
  }
  return sum;
}

/** Every series moved `by` minutes earlier (its first `by` minutes drop off; the end is padded with 0s). */
function shifted(tree: Tree, by: number, length: number): Tree {
  if (by === 0) return tree;
  const out: Tree = {};
  for (const [name, value] of Object.entries(tree)) {
    if (Array.isArray(value)) out[name] = Array.from({ length }, (_, i) => value[i + by] ?? 0);
    else if (typeof value === "object") out[name] = shifted(value, by, length);
    else out[name] = value;
  }
  return out;
}
