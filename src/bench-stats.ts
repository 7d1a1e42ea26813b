/**
 * Benchmark instrumentation (opt-in; see BENCHMARKS.md, "Hibernation").
 *
 * Off unless the var BENCH_STATS is "on" (`wrangler dev --var BENCH_STATS:on`).
 * Then room objects count how often they are constructed (first start and every
 * wake from hibernation), their alarms, and what reaches JavaScript, and the
 * Worker serves the counts at GET /__bench/stats (404 otherwise). The counters
 * live at module level so they outlive a hibernated object; they are per
 * isolate, which locally (wrangler dev) the Worker shares with its objects.
 * When off, each hook costs one null check.
 */
export interface BenchStats {
  /** Room objects constructed: the first start and every wake from hibernation. */
  constructed: number;
  /** alarm() calls. */
  alarms: number;
  /** WebSocket messages that reached JavaScript (webSocketMessage calls). */
  webSocketMessages: number;
  /** Engine.IO pongs handled in JavaScript instead of the runtime's auto-response. */
  pongsInJs: number;
}

export let benchStats: BenchStats | null = null;

/** Turns the counters on if the var asks for it; returns them (null when off). */
export function initBenchStats(env: object): BenchStats | null {
  if (benchStats === null && (env as { BENCH_STATS?: string }).BENCH_STATS === "on") {
    benchStats = { constructed: 0, alarms: 0, webSocketMessages: 0, pongsInJs: 0 };
  }
  return benchStats;
}

/** GET /__bench/stats: the counters, or 404 when BENCH_STATS is not "on". */
export function benchStatsResponse(env: object): Response {
  const stats = initBenchStats(env);
  return stats === null ? new Response("Not Found", { status: 404 }) : Response.json(stats);
}
