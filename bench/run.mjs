/**
 * `npm run bench`: fan-out throughput, latency, memory and connect time of
 * this project side by side with a raw hibernating Durable Object (the
 * platform floor) and Node socket.io, plus the project's hibernation figure.
 * Prints a table and writes the generated part of BENCHMARKS.md.
 *
 * Settings: environment variables BENCH_*, or the same as flags after
 * `npm run bench --` (BENCH_LATENCY_S=10 is --latency-s=10). See SETTINGS.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LoadRoom } from "./load.mjs";
import { measureIdleRounds, measureWake } from "./idle.mjs";
import { measurePolling } from "./polling.mjs";
import { measureShardHop } from "./shard-hop.mjs";
import { Profiler } from "./profile.mjs";
import { fileLimit } from "./proc.mjs";
import { buildWorkers, killAllSync, removeBuilds, ROOT, startServer, stopAll, sleep, SUBJECTS } from "./servers.mjs";

/** name: [default, description]. */
const SETTINGS = {
  N: ["100,1000,5000", "receivers in the room, comma-separated"],
  RUNS: ["5", "runs per subject and N (figures are medians)"],
  SUBJECTS: ["project,raw-do,socket.io", "subjects to measure"],
  WINDOW: ["16", "throughput: messages in flight (sent, not yet delivered to all N)"],
  THROUGHPUT_S: ["5", "throughput: sending time bound, seconds"],
  MAX_DELIVERIES: ["2000000", "throughput: bound on deliveries (messages × N)"],
  LATENCY_RATE: ["5000", "latency: fixed rate, in deliveries/s (messages/s = rate / N)"],
  LATENCY_S: ["20", "latency: sending time, seconds"],
  LATENCY_MIN_MESSAGES: ["40", "latency: at least this many messages (stretches the time at large N, where one slow message is 1/messages of the samples)"],
  PAYLOAD: ["32", "bytes of padding in each event"],
  SETTLE_MS: ["2000", "wait before each memory reading"],
  WARMUP_CLIENTS: ["0", "memory: clients that join and leave a warm-up room first (what a first wave of connections grows for good then is not counted per connection)"],
  CONNECT_CONCURRENCY: ["64", "handshakes in progress at once"],
  CONNECT_TIMEOUT_S: ["180", "bound on connecting N clients"],
  DRAIN_S: ["30", "bound on waiting for in-flight messages after sending stops"],
  HIBERNATION_S: ["80", "hibernation figure: idle time, seconds (0 skips it; 300+ for a longer look)"],
  HIBERNATION_N: ["1000", "hibernation figure: sockets in the idle room"],
  FD_PER_CONNECTION: ["4", "open files per WebSocket in wrangler dev's proxy (caps N under the fd limit)"],
  OUT: ["BENCHMARKS.md", "file whose generated section is rewritten (empty: none)"],
  FROM: ["", "path of a saved .bench/results-*.json: print its tables (and rewrite --out) with this version's summary, run nothing"],
  PHASES: ["fanout,hibernation", "phases to run: fanout (throughput, latency, memory per N), memory (memory per N alone), hibernation, idle (CPU per idle ping round), wake (first message after hibernation vs awake), polling (long-polling latency), shard-hop (sharded rooms: a hop between shards, a private message among 8 shards)"],
  HOP_SAMPLES: ["200", "shard-hop phase: messages per figure"],
  IDLE_N: ["1000,4000", "idle phase: sockets in the idle room, comma-separated"],
  IDLE_INTERVAL_S: ["15", "idle phase: ping interval, seconds (longer than the ~10 s after which an idle object hibernates)"],
  IDLE_ROUNDS: ["4", "idle phase: rounds measured (after two intervals for every first ping)"],
  WAKE_N: ["1000,4000", "wake phase: receivers, comma-separated"],
  WAKE_CYCLES: ["3", "wake phase: awake/hibernated cycles per subject and N (figures are medians)"],
  POLLING_CLIENTS: ["3", "polling phase: clients in the room (one sender, the others receive)"],
  POLLING_RATE: ["20", "polling phase: messages per second"],
  POLLING_S: ["10", "polling phase: sending time, seconds"],
  PROFILE: ["off", "on: CPU-profile the Worker of wrangler subjects during the throughput phase (.bench/profile-*); BENCHMARKS.md is then left alone"],
};

const config = readSettings();
const started = new Date();
const results = [];
let hibernation = null;
/** Figures of the idle and wake phases (bench/idle.mjs). */
const idle = [];
const wake = [];
const polling = [];


async function main() {
  if (config.FROM) return rerender(config.FROM);
  const machine = machineInfo();
  const limits = fileLimits();
  const { ns, capped } = plannedNs(limits);
  log(`socketio-edge bench: N=${ns.join(",")} runs=${config.RUNS} subjects=${config.SUBJECTS.join(",")}`);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, load ${machine.loadStart}`);
  if (capped) log(capped);
  const buildTimes = await buildWorkers(config.SUBJECTS);
  log(`built ${Object.keys(buildTimes).join(", ") || "nothing"}: wrangler dev serves these builds, source edits during the run do not reach them`);

  const fanout = config.PHASES.includes("fanout");
  for (const n of fanout || config.PHASES.includes("memory") ? ns : []) {
    for (let run = 1; run <= config.RUNS; run++) {
      // Rotate the order of subjects from run to run, so no subject always goes first.
      const order = config.SUBJECTS.map((_, i) => config.SUBJECTS[(i + run - 1) % config.SUBJECTS.length]);
      for (const subject of order) {
        const result = await measure(subject, n, run, { memoryOnly: !fanout });
        results.push(result);
        log(describe(result));
      }
    }
  }
  if (config.PHASES.includes("hibernation") && config.HIBERNATION_S > 0 && config.SUBJECTS.includes("project")) {
    hibernation = await measureHibernation(config.HIBERNATION_N, config.HIBERNATION_S);
  }
  const connect = { concurrency: config.CONNECT_CONCURRENCY, timeoutMs: config.CONNECT_TIMEOUT_S * 1000 };
  if (config.PHASES.includes("idle")) {
    for (const n of config.IDLE_N) {
      for (const subject of config.SUBJECTS.filter((s) => SUBJECTS[s].kind === "wrangler")) {
        log(`idle: ${subject}, ${n} sockets, ping interval ${config.IDLE_INTERVAL_S} s, ${config.IDLE_ROUNDS} rounds`);
        const figure = await measureIdleRounds(subject, n, {
          intervalMs: config.IDLE_INTERVAL_S * 1000,
          roundsToMeasure: config.IDLE_ROUNDS,
          payloadBytes: config.PAYLOAD,
          connect,
        });
        idle.push(figure);
        log(`idle: ${JSON.stringify(figure)}`);
      }
    }
  }
  if (config.PHASES.includes("polling")) {
    for (let run = 1; run <= config.RUNS; run++) {
      for (const subject of config.SUBJECTS) {
        log(`polling: ${subject}, ${config.POLLING_CLIENTS} clients, ${config.POLLING_RATE} messages/s for ${config.POLLING_S} s, run ${run}`);
        const figure = await measurePolling(subject, {
          clients: config.POLLING_CLIENTS,
          rate: config.POLLING_RATE,
          seconds: config.POLLING_S,
          payloadBytes: config.PAYLOAD,
        });
        polling.push({ ...figure, run });
        log(`polling: ${JSON.stringify(figure)}`);
      }
    }
  }
  if (config.PHASES.includes("wake")) {
    for (const n of config.WAKE_N) {
      for (const subject of config.SUBJECTS.filter((s) => SUBJECTS[s].kind === "wrangler")) {
        log(`wake: ${subject}, ${n} receivers, ${config.WAKE_CYCLES} cycles`);
        const figure = await measureWake(subject, n, { cycles: config.WAKE_CYCLES, payloadBytes: config.PAYLOAD, connect });
        wake.push(figure);
        log(`wake: ${JSON.stringify({ ...figure, samples: undefined })}`);
      }
    }
  }

  const shardHop = [];
  if (config.PHASES.includes("shard-hop")) {
    log(`shard-hop: ${config.HOP_SAMPLES} messages per figure`);
    const figure = await measureShardHop({ samples: config.HOP_SAMPLES });
    shardHop.push(figure);
    log(`shard-hop: ${JSON.stringify(figure)}`);
  }

  removeBuilds();
  machine.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const summary = summarize(ns);
  const report = { started: started.toISOString(), machine, limits, capped, config, command: commandLine(), results, summary, hibernation, idle, wake, polling, shardHop };
  console.log("\n" + textReport(report));
  saveJson(report);
  if (config.OUT) writeMarkdown(join(ROOT, config.OUT), report);
  const failed =
    results.filter((r) => r.error || !r.verify?.ok).length + (hibernation && !hibernation.ok ? 1 : 0) + [...idle, ...wake, ...polling, ...shardHop].filter((f) => !f.ok).length;
  if (failed) console.error(`${failed} measurement(s) failed or lost/duplicated/reordered messages: see above`);
  return failed ? 1 : 0;
}

/** --from: the tables of a saved run, summarised by this version of the runner. */
function rerender(file) {
  const saved = JSON.parse(readFileSync(file, "utf8"));
  for (const name of Object.keys(SETTINGS)) if (!["OUT", "FROM", "PROFILE"].includes(name)) config[name] = saved.config[name];
  results.push(...saved.results);
  hibernation = saved.hibernation;
  idle.push(...(saved.idle ?? []));
  wake.push(...(saved.wake ?? []));
  polling.push(...(saved.polling ?? []));
  const ns = [...new Set(saved.results.map((r) => r.n))];
  const report = { ...saved, summary: summarize(ns) };
  console.log(textReport(report));
  if (config.OUT) writeMarkdown(join(ROOT, config.OUT), report);
  return 0;
}

// --- one measurement ---------------------------------------------------------

/** One server, N clients: memory, and unless `memoryOnly`, throughput and latency. */
async function measure(subject, n, run, { memoryOnly = false } = {}) {
  const result = { subject, n, run };
  let server = null;
  let room = null;
  try {
    server = await startServer(subject, { vars: shardVars(subject, n) });
    // Warm-up: load the Worker (and compile it) in another room, then create the measured room with
    // one client that leaves again: what the room itself costs is its own figure, not a per-connection one.
    const roomName = `bench-${n}-${run}`;
    await visitRoom(server, `warmup-${run}`, Number(config.WARMUP_CLIENTS));
    const empty = server.memory();
    await visitRoom(server, roomName);
    const before = server.memory();

    const throughputMax = Math.max(1, Math.ceil(config.MAX_DELIVERIES / n));
    const latencyRate = config.LATENCY_RATE / n;
    const latencyMax = Math.max(config.LATENCY_MIN_MESSAGES, Math.ceil(latencyRate * config.LATENCY_S));
    room = new LoadRoom(server.wsUrl, roomName, {
      payloadBytes: config.PAYLOAD,
      maxMessages: throughputMax + latencyMax + 1,
    });
    result.connectMs = await room.connect(n, {
      concurrency: config.CONNECT_CONCURRENCY,
      timeoutMs: config.CONNECT_TIMEOUT_S * 1000,
    });
    await sleep(config.SETTLE_MS);
    const after = server.memory();
    const connections = n + 1;
    result.memory = {
      empty,
      before,
      roomKiB: before.runtimeKiB - empty.runtimeKiB,
      after,
      runtimeKiBPerConnection: (after.runtimeKiB - before.runtimeKiB) / connections,
      proxyKiBPerConnection: (after.proxyKiB - before.proxyKiB) / connections,
      runtimeFilesPerConnection: (after.runtimeFiles - before.runtimeFiles) / connections,
      proxyFilesPerConnection: (after.proxyFiles - before.proxyFiles) / connections,
    };

    if (memoryOnly) {
      result.verify = room.verify();
      return result;
    }
    const profiler = config.PROFILE && server.inspectorPort ? await Profiler.attach(server.inspectorPort) : null;
    await profiler?.start();
    const cpu0 = server.cpu();
    const load0 = process.cpuUsage();
    result.throughput = await room.throughput({
      window: config.WINDOW,
      maxMessages: throughputMax,
      maxMs: config.THROUGHPUT_S * 1000,
      drainMs: config.DRAIN_S * 1000,
    });
    const cpu1 = server.cpu();
    const load1 = process.cpuUsage(load0);
    if (profiler) saveProfile(`${subject}-${n}-${run}`, await profiler.stop());
    // CPU seconds per 1000 deliveries: where the machine's time went during the throughput phase.
    const per1k = (seconds) => (result.throughput.deliveries ? (seconds * 1000) / result.throughput.deliveries : NaN);
    result.cpuPer1kDeliveries = {
      runtime: per1k(cpu1.runtime - cpu0.runtime),
      proxy: per1k(cpu1.proxy - cpu0.proxy),
      loadGenerator: per1k((load1.user + load1.system) / 1e6),
    };

    result.latency = await room.latency({ rate: latencyRate, messages: latencyMax, drainMs: config.DRAIN_S * 1000 });
    result.verify = room.verify();
    if (!result.verify.ok) result.serverOutput = server.tail(15);
  } catch (error) {
    result.error = String(error?.message ?? error).split("\n")[0];
    if (server) result.serverOutput = server.tail(15);
  } finally {
    if (room) await room.close();
    if (server) await server.stop();
  }
  return result;
}

/** A sharded subject's shard size: the sender and N receivers spread over its k shards. */
function shardVars(subject, n) {
  const k = SUBJECTS[subject].shards;
  return k === undefined ? {} : { SHARD_MAX_CONNECTIONS: String(Math.ceil((n + 1) / k)) };
}

/** `clients` (and one more) open `room` and leave again; then the server settles. */
async function visitRoom(server, room, clients = 0) {
  const visitor = new LoadRoom(server.wsUrl, room, { maxMessages: 1 });
  await visitor.connect(clients, { concurrency: config.CONNECT_CONCURRENCY, timeoutMs: config.CONNECT_TIMEOUT_S * 1000 });
  await visitor.close();
  await sleep(config.SETTLE_MS);
}

/**
 * An idle room of N sockets for `seconds`: how often the project's object was
 * constructed (woke) and alarmed, and what reached JavaScript, from the room's
 * own stats (GET /v1/rooms/{room}/stats, with an API key made for this run).
 * Clients answer every ping; the runtime answers their pongs. The stats are read
 * before and after the idle time only: a read is a call into the object, which
 * wakes it, and the wake of the last read is not counted.
 */
async function measureHibernation(n, seconds) {
  log(`hibernation: ${n} idle sockets for ${seconds} s (project, room stats over the REST API)`);
  const figure = { n, seconds };
  let server = null;
  let room = null;
  try {
    const apiKey = randomBytes(24).toString("hex");
    server = await startServer("project", { vars: { API_KEY: apiKey } });
    const stats = async () => {
      const askedAt = Date.now();
      const response = await fetch(`${server.url}/v1/rooms/hibernation/stats`, { headers: { Authorization: `Bearer ${apiKey}` } });
      if (!response.ok) throw new Error(`GET /v1/rooms/hibernation/stats: ${response.status}`);
      const { sinceStart, awakeSince } = await response.json();
      return { ...sinceStart, wokeForThisRead: awakeSince >= askedAt ? 1 : 0 };
    };
    room = new LoadRoom(server.wsUrl, "hibernation", { payloadBytes: config.PAYLOAD, maxMessages: 2 });
    figure.connectMs = await room.connect(n, { concurrency: config.CONNECT_CONCURRENCY, timeoutMs: config.CONNECT_TIMEOUT_S * 1000 });
    figure.pingIntervalMs = room.handshake?.pingInterval;
    const s0 = await stats();
    const m0 = server.memory();
    const cpu0 = server.cpu().runtime;
    const t0 = performance.now();
    const samples = [];
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(5_000, seconds * 1000 - (performance.now() - t0)));
      samples.push({ s: Math.round((performance.now() - t0) / 1000), runtimeKiB: server.memory().runtimeKiB });
    }
    const s1 = await stats();
    const m1 = server.memory();
    figure.idleSeconds = (performance.now() - t0) / 1000;
    figure.runtimeCpuSeconds = server.cpu().runtime - cpu0;
    figure.woke = s1.wakes - s0.wakes - s1.wokeForThisRead;
    figure.alarms = s1.alarms - s0.alarms;
    figure.webSocketMessagesInJs = s1.webSocketMessages - s0.webSocketMessages;
    figure.pongsInJs = s1.pongsInJs - s0.pongsInJs;
    figure.pingsPerSocket = room.pingsPerReceiver();
    figure.expectedPings = figure.pingIntervalMs ? Math.floor((figure.idleSeconds * 1000) / figure.pingIntervalMs) : NaN;
    figure.runtimeKiB = { start: m0.runtimeKiB, end: m1.runtimeKiB };
    figure.samples = samples;
    // The room still relays after its idle time (the message wakes the object if it hibernated).
    room.send();
    figure.relayAfterIdle = await room.waitCompleted(1, 30_000);
    figure.verify = room.verify();
    figure.ok = figure.relayAfterIdle && figure.verify.ok && figure.pongsInJs === 0;
  } catch (error) {
    figure.error = String(error?.message ?? error).split("\n")[0];
    figure.ok = false;
  } finally {
    if (room) await room.close();
    if (server) await server.stop();
  }
  log(`hibernation: ${JSON.stringify({ ...figure, samples: undefined })}`);
  return figure;
}

// --- figures -----------------------------------------------------------------

const METRICS = {
  deliveriesPerSec: (r) => r.throughput?.deliveriesPerSec,
  p50: (r) => r.latency?.p50,
  p99: (r) => r.latency?.p99,
  memKiB: (r) => r.memory?.runtimeKiBPerConnection,
  proxyMemKiB: (r) => r.memory?.proxyKiBPerConnection,
  roomKiB: (r) => r.memory?.roomKiB,
  connectMs: (r) => r.connectMs,
  runtimeCpuPer1k: (r) => r.cpuPer1kDeliveries?.runtime,
  // wrangler dev's proxy does the same work per delivery for every wrangler subject: dividing by its
  // CPU cancels most of what a busy shared machine does to CPU time (wrangler subjects only).
  runtimePerProxyCpu: (r) => r.cpuPer1kDeliveries?.runtime / r.cpuPer1kDeliveries?.proxy,
};

function summarize(ns) {
  const cells = [];
  for (const n of ns) {
    for (const subject of config.SUBJECTS) {
      const runs = results.filter((r) => r.n === n && r.subject === subject);
      const ok = runs.filter((r) => !r.error && r.verify?.ok);
      const cell = { n, subject, runs: runs.length, ok: ok.length };
      for (const [name, get] of Object.entries(METRICS)) {
        const values = ok.map(get).filter(Number.isFinite);
        cell[name] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
      }
      cells.push(cell);
    }
  }
  const ratios = [];
  const targets = [];
  for (const n of ns) {
    for (const project of cells.filter((c) => c.n === n && c.subject.startsWith("project"))) {
    // Recovery on is also set against recovery off (target: ≥ 0.9× the deliveries/s).
    const bases = project.subject === "project" ? ["raw-do", "socket.io"] : ["project", "raw-do", "socket.io"];
    for (const other of bases) {
      const base = cells.find((c) => c.n === n && c.subject === other);
      if (!base) continue;
      const ratio = {};
      for (const name of Object.keys(METRICS)) ratio[name] = project[name].median / base[name].median;
      ratios.push({ n, subject: project.subject, versus: other, ...ratio });
      if (other === "raw-do") {
        targets.push({
          n,
          subject: project.subject,
          deliveries: { ratio: ratio.deliveriesPerSec, met: ratio.deliveriesPerSec >= 0.9 },
          p99: { ratio: ratio.p99, met: ratio.p99 <= 1.1 },
          memory: { ratio: ratio.memKiB, met: ratio.memKiB <= 1.1 },
        });
      }
    }
    }
  }
  return { cells, ratios, targets };
}

function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// --- output ------------------------------------------------------------------

const fmt = {
  int: (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–"),
  ms: (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : "–"),
  s: (x) => (Number.isFinite(x) ? (x / 1000).toFixed(2) : "–"),
  kib: (x) => (Number.isFinite(x) ? x.toFixed(1) : "–"),
  ratio: (x) => (Number.isFinite(x) ? x.toFixed(2) + "×" : "–"),
  range: (m, f) => (Number.isFinite(m.min) && m.min !== m.max ? `${f(m.min)}–${f(m.max)}` : ""),
};

function figureRows(summary) {
  const header = ["N", "subject", "deliveries/s", "(range)", "p50 ms", "p99 ms", "(p99 range)", "KiB/conn", "proxy KiB/conn", "room KiB", "connect N s", "runs ok"];
  const rows = summary.cells.map((c) => [
    String(c.n),
    SUBJECTS[c.subject].label,
    fmt.int(c.deliveriesPerSec.median),
    fmt.range(c.deliveriesPerSec, fmt.int),
    fmt.ms(c.p50.median),
    fmt.ms(c.p99.median),
    fmt.range(c.p99, fmt.ms),
    fmt.kib(c.memKiB.median),
    SUBJECTS[c.subject].kind === "wrangler" ? fmt.kib(c.proxyMemKiB.median) : "n/a",
    fmt.int(c.roomKiB.median),
    fmt.s(c.connectMs.median),
    `${c.ok}/${c.runs}`,
  ]);
  return [header, rows];
}

function ratioRows(summary) {
  const header = ["N", "ratio", "deliveries/s", "p50", "p99", "KiB/conn", "connect", "runtime CPU/delivery", "runtime ÷ proxy CPU"];
  const rows = summary.ratios.map((r) => [
    String(r.n),
    `${SUBJECTS[r.subject].label} ÷ ${SUBJECTS[r.versus].label}`,
    fmt.ratio(r.deliveriesPerSec),
    fmt.ratio(r.p50),
    fmt.ratio(r.p99),
    fmt.ratio(r.memKiB),
    fmt.ratio(r.connectMs),
    r.versus === "socket.io" ? "n/a" : fmt.ratio(r.runtimeCpuPer1k),
    r.versus === "socket.io" ? "n/a" : fmt.ratio(r.runtimePerProxyCpu),
  ]);
  return [header, rows];
}

function targetRows(summary) {
  const header = ["N", "subject", "deliveries/s ≥ 0.9× raw DO", "p99 ≤ 1.1× raw DO", "KiB/conn ≤ 1.1× raw DO"];
  const mark = (t) => `${fmt.ratio(t.ratio)} ${t.met ? "met" : "NOT met"}`;
  return [header, summary.targets.map((t) => [String(t.n), SUBJECTS[t.subject].label, mark(t.deliveries), mark(t.p99), mark(t.memory)])];
}

function hibernationRows(h) {
  if (!h) return null;
  if (h.error) return [["hibernation"], [[`failed: ${h.error}`]]];
  return [
    ["idle room", "idle s", "ping interval s", "object constructed (woke)", "alarms", "WebSocket messages in JS", "pongs in JS", "pings per socket", "runtime CPU s", "runtime RSS start → end MiB", "relays after idle"],
    [[
      `${h.n} sockets`,
      h.idleSeconds.toFixed(0),
      (h.pingIntervalMs / 1000).toFixed(0),
      String(h.woke),
      `${h.alarms} (expected ≈ ${h.expectedPings})`,
      String(h.webSocketMessagesInJs),
      String(h.pongsInJs),
      h.pingsPerSocket.toFixed(2),
      h.runtimeCpuSeconds.toFixed(2),
      `${(h.runtimeKiB.start / 1024).toFixed(0)} → ${(h.runtimeKiB.end / 1024).toFixed(0)}`,
      h.relayAfterIdle ? "yes" : "NO",
    ]],
  ];
}

function idleRows(figures) {
  if (figures.length === 0) return null;
  const header = ["idle room", "subject", "ping interval s", "rounds", "wakes", "alarms", "pongs in JS", "runtime CPU ms/round", "per 1,000 sockets", "proxy CPU ms/round", "round reaches all clients, ms"];
  const rows = figures.map((f) =>
    f.error
      ? [`${f.n} sockets`, SUBJECTS[f.subject ?? "project"].label, `failed: ${f.error}`, "", "", "", "", "", "", "", ""]
      : [
          `${f.n} sockets`,
          SUBJECTS[f.subject ?? "project"].label,
          (f.intervalMs / 1000).toFixed(0),
          String(f.rounds),
          String(f.wakes ?? "–"),
          String(f.alarms ?? "–"),
          String(f.pongsInJs ?? "–"),
          fmt.ms(f.runtimeCpuMsPerRound),
          fmt.ms(f.runtimeCpuMsPerRoundPer1k),
          fmt.ms(f.proxyCpuMsPerRound),
          fmt.ms(f.roundSpreadMs),
        ],
  );
  return [header, rows];
}

function wakeRows(figures) {
  if (figures.length === 0) return null;
  const header = ["N", "subject", "awake: last receiver ms", "after hibernation ms", "extra ms", "woke", "cycles"];
  const rows = figures.map((f) =>
    f.error
      ? [String(f.n), SUBJECTS[f.subject].label, `failed: ${f.error}`, "", "", "", ""]
      : [String(f.n), SUBJECTS[f.subject].label, fmt.ms(f.awakeMs), fmt.ms(f.hibernatedMs), fmt.ms(f.extraMs), String(f.wokeFromHibernation ?? "–"), String(f.cycles)],
  );
  return [header, rows];
}

function pollingRows(figures) {
  if (figures.length === 0) return null;
  const header = ["clients", "subject", "one-way p50 ms", "one-way p99 ms", "ack round trip p50 ms", "ack p99 ms", "messages", "checked"];
  const rows = figures.map((f) =>
    f.error
      ? [String(f.clients), SUBJECTS[f.subject].label, `failed: ${f.error}`, "", "", "", "", ""]
      : [String(f.clients), SUBJECTS[f.subject].label, fmt.ms(f.oneWay.p50), fmt.ms(f.oneWay.p99), fmt.ms(f.ack.p50), fmt.ms(f.ack.p99), String(f.messages), f.verify.ok ? "ok" : JSON.stringify(f.verify)],
  );
  return [header, rows];
}

function textTable([header, rows]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function markdownTable([header, rows]) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

function textReport(report) {
  const parts = [
    "Figures (medians of " + config.RUNS + " runs)",
    textTable(figureRows(report.summary)),
    "",
    "Ratios (deliveries/s: higher is better for the project, the rest: lower is better)",
    textTable(ratioRows(report.summary)),
    "",
    "Targets (project vs raw DO)",
    textTable(targetRows(report.summary)),
  ];
  const h = hibernationRows(report.hibernation);
  if (h) parts.push("", "Hibernation", textTable(h));
  const i = idleRows(report.idle ?? []);
  if (i) parts.push("", "Idle ping rounds", textTable(i));
  const w = wakeRows(report.wake ?? []);
  if (w) parts.push("", "First message after hibernation", textTable(w));
  const p = pollingRows(report.polling ?? []);
  if (p) parts.push("", "Long-polling", textTable(p));
  const failures = report.results.filter((r) => r.error || !r.verify?.ok);
  if (failures.length) {
    parts.push("", "Failures");
    for (const f of failures) parts.push(`  ${f.subject} N=${f.n} run ${f.run}: ${f.error ?? JSON.stringify(f.verify)}`);
  }
  return parts.join("\n");
}

const BEGIN = "<!-- bench:begin (generated by npm run bench; edit outside these markers) -->";
const END = "<!-- bench:end -->";

function writeMarkdown(path, report) {
  const { machine, summary } = report;
  const lines = [
    BEGIN,
    "",
    `## Latest run: ${report.started.slice(0, 10)}`,
    "",
    "```sh",
    report.command,
    "```",
    "",
    `- Machine: ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memoryGiB} GiB memory, ${machine.os}; load average ${machine.loadStart} at start, ${machine.loadEnd} at end.`,
    `- Code: ${machine.revision}, built once at the start of the run.`,
    `- Versions: Node ${machine.node}, wrangler ${machine.wrangler}, workerd ${machine.workerd}, socket.io ${machine.socketio}, ws ${machine.ws} (load generator).`,
    `- Open-file limit of the servers: ${report.limits.servers}${report.capped ? `; ${report.capped}` : ""}.`,
    `- Load: one sender and N receivers in one room; throughput with ${config.WINDOW} messages in flight for ≤ ${config.THROUGHPUT_S} s; latency at ${config.LATENCY_RATE} deliveries/s for ≥ ${config.LATENCY_S} s (≥ ${config.LATENCY_MIN_MESSAGES} messages); ${config.PAYLOAD}-byte padding; medians of ${config.RUNS} runs, each on a freshly started server.`,
    `- Every run checked every receiver got every message once and in order: ${report.results.filter((r) => r.verify?.ok).length} of ${report.results.length} runs passed.`,
    "",
    "### Figures",
    "",
    markdownTable(figureRows(summary)),
    "",
    "### Ratios (deliveries/s: higher is better for the project, the rest: lower is better)",
    "",
    markdownTable(ratioRows(summary)),
    "",
    "### Targets (project vs raw DO)",
    "",
    markdownTable(targetRows(summary)),
    "",
  ];
  const h = hibernationRows(report.hibernation);
  if (h) lines.push("### Hibernation (project, idle room)", "", markdownTable(h), "");
  const i = idleRows(report.idle ?? []);
  if (i) lines.push("### Idle ping rounds", "", markdownTable(i), "");
  const w = wakeRows(report.wake ?? []);
  if (w) lines.push("### First message after hibernation", "", markdownTable(w), "");
  const p = pollingRows(report.polling ?? []);
  if (p) lines.push("### Long-polling", "", markdownTable(p), "");
  const failures = report.results.filter((r) => r.error || !r.verify?.ok);
  if (failures.length) {
    lines.push("### Failures", "");
    for (const f of failures) lines.push(`- ${f.subject} N=${f.n} run ${f.run}: ${f.error ?? JSON.stringify(f.verify)}`);
    lines.push("");
  }
  lines.push(END);
  const block = lines.join("\n");
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n";
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : text.trimEnd() + "\n\n" + block + "\n";
  writeFileSync(path, text);
  log(`wrote ${config.OUT}`);
}

function saveJson(report) {
  const dir = join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `results-${report.started.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`raw results: .bench/${file.split("/").pop()}`);
}

function saveProfile(name, { profile, summary }) {
  const dir = join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `profile-${name}.cpuprofile`), JSON.stringify(profile));
  const { totalMs, rows } = summary;
  const text = [`${name}: ${totalMs.toFixed(0)} ms sampled, self time per function`]
    .concat(rows.map((r) => `${r.ms.toFixed(1).padStart(9)} ms ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.fn}${r.source ? `  | ${r.source}` : ""}`))
    .join("\n");
  writeFileSync(join(dir, `profile-${name}.txt`), text + "\n");
  log(`profile: .bench/profile-${name}.txt\n${text}`);
}

function describe(r) {
  const head = `${r.subject.padEnd(9)} N=${String(r.n).padEnd(5)} run ${r.run}:`;
  if (r.error) return `${head} FAILED ${r.error}${r.serverOutput ? "\n" + r.serverOutput : ""}`;
  const v = r.verify;
  if (!r.throughput) return `${head} ${fmt.kib(r.memory.runtimeKiBPerConnection)} KiB/conn (proxy ${fmt.kib(r.memory.proxyKiBPerConnection)}), connect ${fmt.s(r.connectMs)} s`;
  return (
    `${head} ${fmt.int(r.throughput.deliveriesPerSec)} deliveries/s, p50 ${fmt.ms(r.latency.p50)} ms, p99 ${fmt.ms(r.latency.p99)} ms, ` +
    `${fmt.kib(r.memory.runtimeKiBPerConnection)} KiB/conn, connect ${fmt.s(r.connectMs)} s, ` +
    (v.ok ? `${v.messages} messages checked` : `CHECK FAILED ${JSON.stringify(v)}${r.serverOutput ? "\n" + r.serverOutput : ""}`)
  );
}

function log(message) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

// --- settings, machine, limits -------------------------------------------------

function readSettings() {
  if (process.argv.includes("--help")) {
    console.log("npm run bench -- [--name=value ...]   (or BENCH_NAME=value npm run bench)\n");
    for (const [name, [fallback, description]] of Object.entries(SETTINGS)) {
      console.log(`  ${flagName(name).padEnd(24)} ${description} [${fallback}]`);
    }
    process.exit(0);
  }
  const flags = {};
  for (const arg of process.argv.slice(2)) {
    const match = /^--([a-z0-9-]+)=(.*)$/i.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg} (use --name=value; names: ${Object.keys(SETTINGS).map(flagName).join(", ")})`);
    const name = match[1].toUpperCase().replace(/-/g, "_");
    if (!(name in SETTINGS)) throw new Error(`unknown setting --${match[1]}`);
    flags[name] = match[2];
  }
  const out = {};
  for (const [name, [fallback]] of Object.entries(SETTINGS)) {
    out[name] = flags[name] ?? process.env[`BENCH_${name}`] ?? fallback;
  }
  const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const number = (name) => {
    const value = Number(out[name]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`BENCH_${name} must be a number ≥ 0, got "${out[name]}"`);
    return value;
  };
  const settings = {
    OUT: out.PROFILE === "on" ? "" : out.OUT,
    FROM: out.FROM,
    PROFILE: out.PROFILE === "on",
    SUBJECTS: list(out.SUBJECTS),
    N: list(out.N).map(Number),
    PHASES: list(out.PHASES),
    IDLE_N: list(out.IDLE_N).map(Number),
    WAKE_N: list(out.WAKE_N).map(Number),
  };
  const phases = ["fanout", "memory", "hibernation", "idle", "wake", "polling", "shard-hop"];
  for (const p of settings.PHASES) if (!phases.includes(p)) throw new Error(`unknown phase ${p} (${phases.join(", ")})`);
  for (const s of settings.SUBJECTS) if (!(s in SUBJECTS)) throw new Error(`unknown subject ${s} (${Object.keys(SUBJECTS).join(", ")})`);
  if (settings.N.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_N must list positive integers`);
  for (const name of Object.keys(SETTINGS)) if (!(name in settings)) settings[name] = number(name);
  settings.RUNS = Math.max(1, Math.round(settings.RUNS));
  settings.WINDOW = Math.max(1, Math.round(settings.WINDOW));
  return settings;
}

function flagName(name) {
  return "--" + name.toLowerCase().replace(/_/g, "-");
}

/** `npm run bench`, with the settings that differ from the defaults. */
function commandLine() {
  const text = (name) => {
    const value = config[name];
    if (name === "PROFILE") return value ? "on" : "off";
    return String(Array.isArray(value) ? value.join(",") : value);
  };
  const flags = Object.entries(SETTINGS)
    .filter(([name, [fallback]]) => text(name) !== fallback && !(name === "OUT" && config.PROFILE))
    .map(([name]) => `${flagName(name)}=${text(name)}`);
  return flags.length ? `npm run bench -- ${flags.join(" ")}` : "npm run bench";
}

function machineInfo() {
  const require = createRequire(join(ROOT, "package.json"));
  const version = (pkg, from = require) => {
    try {
      return from(`${pkg}/package.json`).version;
    } catch {
      return "?";
    }
  };
  // The workerd that wrangler (through its miniflare) runs.
  const fromWrangler = createRequire(require.resolve("wrangler/package.json"));
  const fromMiniflare = createRequire(fromWrangler.resolve("miniflare/package.json"));
  let workerd = version("workerd", fromMiniflare);
  try {
    const binary = join(fromMiniflare.resolve("workerd/package.json"), "..", "bin", "workerd");
    workerd += ` (${execFileSync(binary, ["--version"], { encoding: "utf8" }).trim()})`;
  } catch {
    // version from package.json only
  }
  let revision = "?";
  try {
    const git = (...args) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    revision = git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "src", "wrangler.toml") ? " + uncommitted changes in src/" : "");
  } catch {
    // not a git checkout
  }
  const cpus = os.cpus();
  return {
    revision,
    cpus: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "?",
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler: version("wrangler"),
    workerd,
    socketio: version("socket.io"),
    ws: version("ws"),
    loadStart: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

/** The open-file limit the servers get (servers.mjs raises it as far as allowed) and our own. */
function fileLimits() {
  let servers = NaN;
  try {
    servers = Number(
      execFileSync("/bin/sh", ["-c", 'ulimit -Hn 65536 2>/dev/null; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n'], {
        encoding: "utf8",
      }).trim(),
    );
  } catch {
    // unknown
  }
  return { servers, loadGenerator: fileLimit() };
}

/**
 * N values the file limits allow: wrangler dev's proxy holds about
 * FD_PER_CONNECTION descriptors per WebSocket, the load generator one.
 * A larger N is capped (to a multiple of 100) for every subject alike.
 */
function plannedNs(limits) {
  const usesWrangler = config.SUBJECTS.some((s) => SUBJECTS[s].kind === "wrangler");
  const reserve = 200;
  let ceiling = Infinity;
  if (usesWrangler && Number.isFinite(limits.servers)) ceiling = Math.floor((limits.servers - reserve) / config.FD_PER_CONNECTION) - 1;
  if (Number.isFinite(limits.loadGenerator)) ceiling = Math.min(ceiling, limits.loadGenerator - reserve - 1);
  const capped = [];
  const ns = [];
  for (const n of config.N) {
    let m = n;
    if (n > ceiling) {
      m = Math.floor(ceiling / 100) * 100;
      capped.push(`N=${n} capped to ${m}: ${n + 1} WebSockets need about ${(n + 1) * config.FD_PER_CONNECTION + reserve} open files in wrangler dev's proxy, the limit is ${limits.servers}`);
    }
    if (!ns.includes(m)) ns.push(m);
  }
  return { ns, capped: capped.join("; ") };
}

function installCleanup() {
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping servers`);
    await Promise.race([stopAll(), sleep(8_000)]);
    killAllSync();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => stop("SIGHUP"));
  process.on("exit", killAllSync);
  process.on("uncaughtException", (error) => {
    console.error(error);
    killAllSync();
    process.exit(1);
  });
}

// Last, once every const above is initialised.
installCleanup();
main().then(
  (code) => process.exit(code),
  async (error) => {
    console.error(error);
    await stopAll();
    process.exit(1);
  },
);
