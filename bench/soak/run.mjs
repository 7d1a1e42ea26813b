#!/usr/bin/env node
/**
 * Chaos and soak run: hundreds of socket.io-clients (polling, WebSocket,
 * polling → WebSocket upgrade) in several rooms of the shipped Worker with
 * connection state recovery on, publishing numbered messages through the relay
 * and the REST API while the run drops and reconnects clients, evicts room
 * objects and restarts the local runtime; then it checks every recipient's
 * messages against what it was owed (bench/soak/ledger.mjs says exactly what
 * that is) and prints the figures.
 *
 *   npm run soak -- --minutes 10
 *   npm run soak -- --help
 */
import { writeFileSync } from "node:fs";
import { fileLimit } from "../proc.mjs";
import { MODES, SoakClient } from "./clients.mjs";
import { Ledger } from "./ledger.mjs";
import { Outcomes, printReport } from "./report.mjs";
import { RestPublisher } from "./rest-publisher.mjs";
import { SoakRuntime, sleep } from "./runtime.mjs";

const OPTIONS = {
  minutes: [10, "length of the run, faults included (then a drain of a few seconds)"],
  clients: [200, "socket.io-clients, spread over the rooms and the three transport modes"],
  rooms: [4, "rooms (one object each; named soak-0, soak-1, ...)"],
  rate: [0.2, "relay messages per client per second"],
  "rest-rate": [1, "REST publishes per room per second"],
  "window-ms": [30_000, "CONNECTION_STATE_RECOVERY_MS"],
  "drops-per-minute": [20, "dropped connections per minute, over all clients (10% of them away past the window)"],
  "leaves-per-minute": [5, "deliberate leaves and rejoins per minute"],
  "evict-every": [30, "seconds between evictions of a random room object (0: none)"],
  restarts: [-1, "restarts of the runtime, evenly spaced (-1: one per 4 minutes)"],
  "sample-every": [10, "seconds between memory samples of the runtime"],
  sharded: [false, "set SHARDED_ROOMS=soak-* so the soak's rooms are sharded (where sharding exists)"],
  modes: ["polling → websocket,websocket,polling", "transport modes to use, comma-separated"],
  seed: [1, "seed of the run's random choices (modes, which client, which fault)"],
  out: ["", "also write the figures as JSON to this file"],
};

const options = parseArgs(process.argv.slice(2));
const random = mulberry32(options.seed);
const pick = (list) => list[Math.floor(random() * list.length)];
const API_KEY = `soak-${Math.random().toString(36).slice(2)}`;
const runId = Date.now().toString(36);
const rooms = Array.from({ length: options.rooms }, (_, i) => `soak-${i}`);
const modes = options.modes.split(",").map((mode) => mode.trim());
for (const mode of modes) if (!(mode in MODES)) throw new Error(`unknown mode ${mode} (${Object.keys(MODES).join(", ")})`);
const durationMs = options.minutes * 60_000;
const restarts = options.restarts >= 0 ? options.restarts : Math.floor(options.minutes / 4);

const vars = { CONNECTION_STATE_RECOVERY_MS: String(options["window-ms"]) };
if (options.sharded) vars.SHARDED_ROOMS = "soak-*";
const runtime = new SoakRuntime(vars, { API_KEY });
const ledger = new Ledger();
const outcomes = new Outcomes();
const injected = { drops: 0, dropsPastWindow: 0, leaves: 0, evictions: 0, evictionsOfIdleObjects: 0, evictionsFailed: 0, evictionErrors: [], restarts: 0, restartMs: [] };
const memory = [];
const clients = [];
const publishers = [];
let stopping = false;

const timers = [];
const every = (ms, fn) => timers.push(setInterval(fn, ms));

try {
  console.log(`soak: ${options.clients} clients in ${options.rooms} rooms for ${options.minutes} min; recovery window ${options["window-ms"]} ms; ${restarts} restart(s); evictions every ${options["evict-every"]} s${options.sharded ? "; SHARDED_ROOMS=soak-*" : ""}`);
  const needed = options.clients * 6 + 200;
  if (fileLimit() < needed) console.warn(`warning: open-file limit ${fileLimit()} may be short of ~${needed} for this many clients`);
  await runtime.start();
  console.log(`runtime on ${runtime.url}`);
  const startedAt = Date.now();
  sampleMemory(startedAt);

  for (let i = 0; i < options.clients; i++) {
    clients.push(new SoakClient({ id: `c${i}`, room: rooms[i % rooms.length], mode: modes[Math.floor(i / rooms.length) % modes.length], url: runtime.url, ledger, windowMs: options["window-ms"], outcomes }));
    if (i % 20 === 19) await Promise.all(clients.slice(-20).map((client) => client.ready()));
  }
  await Promise.all(clients.map((client) => client.ready()));
  for (const room of rooms) publishers.push(new RestPublisher({ room, url: runtime.url, apiKey: API_KEY, ledger, runId, random }));
  console.log(`${clients.length} clients connected in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

  const loadStart = Date.now();
  // Publishing: each tick, each client publishes with probability rate × tick.
  const TICK = 100;
  every(TICK, () => {
    if (stopping) return;
    for (const client of clients) if (!client.away && random() < options.rate * (TICK / 1000)) client.publish();
    for (const publisher of publishers) if (random() < options["rest-rate"] * (TICK / 1000)) publisher.publish(() => stopping);
  });
  // Faults on clients.
  every(1000, () => {
    if (stopping || runtime.restarting) return;
    for (let n = poisson(options["drops-per-minute"] / 60); n > 0; n--) {
      const pastWindow = random() < 0.1;
      const away = pastWindow ? options["window-ms"] + 5000 + random() * 5000 : 200 + random() * 3000;
      if (pick(clients).drop(away, !pastWindow)) {
        injected.drops++;
        if (pastWindow) injected.dropsPastWindow++;
      }
    }
    for (let n = poisson(options["leaves-per-minute"] / 60); n > 0; n--) if (pick(clients).leave(500 + random() * 3000)) injected.leaves++;
  });
  // Evictions.
  if (options["evict-every"] > 0) {
    every(options["evict-every"] * 1000, async () => {
      if (stopping || runtime.restarting) return;
      const room = pick(rooms);
      ledger.fault(room, Date.now());
      try {
        if (await runtime.evict(objectToEvict(room))) injected.evictions++;
        else injected.evictionsOfIdleObjects++;
      } catch (error) {
        injected.evictionsFailed++;
        if (injected.evictionErrors.length < 5) injected.evictionErrors.push(String(error).slice(0, 300));
      }
    });
  }
  /**
   * A room's object, or in a sharded room a shard that serves one of its connected clients: a socket id
   * of a sharded room ends with `.` and its shard's index in base 36 (src/shard/names.ts).
   */
  function objectToEvict(room) {
    if (!options.sharded) return room;
    const ids = clients.filter((c) => c.room === room && c.connected).map((c) => c.socket.id);
    const id = ids.length > 0 ? pick(ids) : null;
    const dot = id?.lastIndexOf(".") ?? -1;
    return dot > 0 ? `${room}#${parseInt(id.slice(dot + 1), 36)}` : `${room}#0`;
  }
  // Restarts, evenly spaced.
  for (let i = 1; i <= restarts; i++) {
    timers.push(
      setTimeout(async () => {
        if (stopping) return;
        runtime.restarting = true;
        const at = Date.now();
        ledger.fault("*", at);
        await runtime.restart();
        runtime.restarting = false;
        injected.restarts++;
        injected.restartMs.push(Date.now() - at);
        memory.push({ t: (Date.now() - startedAt) / 1000, restart: true });
      }, (durationMs * i) / (restarts + 1)),
    );
  }
  every(options["sample-every"] * 1000, () => sampleMemory(startedAt));
  every(30_000, () => progress(startedAt));

  await sleep(Math.max(0, durationMs - (Date.now() - startedAt)));
  stopping = true;
  while (runtime.restarting) await sleep(100);
  // Drain: everyone back, every answer in, then a little longer for the last deliveries.
  const drainUntil = Date.now() + 60_000;
  while (Date.now() < drainUntil && (clients.some((c) => !c.connected || c.pending > 0) || publishers.some((p) => p.busy))) await sleep(200);
  await sleep(3000);
  const endAt = Date.now();
  sampleMemory(startedAt);
  for (const timer of timers) clearInterval(timer);
  const summary = ledger.summary(endAt);
  const report = { options, restartsPlanned: restarts, durationS: (endAt - startedAt) / 1000, loadS: (endAt - loadStart) / 1000, summary, injected, outcomes: outcomes.counts, surprises: outcomes.surprises, clients: clientFigures(), rest: restFigures(), memory };
  printReport(report);
  if (options.out) writeFileSync(options.out, JSON.stringify(report, null, 2));
  const { totals } = summary;
  process.exitCode = totals.lostInRecoveredGaps + totals.lostOtherwise + totals.duplicated + totals.reordered + totals.unknown === 0 ? 0 : 1;
} finally {
  for (const timer of timers) clearInterval(timer);
  for (const client of clients) client.close();
  await runtime.dispose().catch(() => {});
}
process.exit();

function mib(kib) {
  return +(kib / 1024).toFixed(1);
}

function sampleMemory(startedAt) {
  const sample = runtime.sample();
  memory.push({
    t: Math.round((Date.now() - startedAt) / 1000),
    rssMiB: mib(sample.workerKiB),
    proxyRssMiB: mib(sample.proxyKiB),
    openFiles: sample.openFiles,
    connected: clients.filter((c) => c.connected).length,
    clientsRssMiB: mib(process.memoryUsage().rss / 1024),
  });
}

function progress(startedAt) {
  const sent = [...ledger.publishers.values()].reduce((sum, p) => sum + p.sent.length - 1, 0);
  const last = memory.filter((m) => m.rssMiB !== undefined).at(-1);
  console.log(`t=${Math.round((Date.now() - startedAt) / 1000)}s connected=${clients.filter((c) => c.connected).length}/${clients.length} sent=${sent} drops=${injected.drops} leaves=${injected.leaves} evictions=${injected.evictions} restarts=${injected.restarts} RSS worker=${last?.rssMiB} proxy=${last?.proxyRssMiB} MiB`);
}

function clientFigures() {
  const byMode = {};
  for (const client of clients) {
    const mode = (byMode[client.mode] ??= { clients: 0, connects: 0, recoveries: 0, newSessions: 0, unconfirmed: 0 });
    mode.clients++;
    mode.connects += client.recipient.connects;
    mode.recoveries += client.recipient.recoveries;
    mode.newSessions += client.recipient.newSessions;
    mode.unconfirmed += client.unconfirmed;
  }
  return byMode;
}

function restFigures() {
  const sum = (key) => publishers.reduce((total, p) => total + p[key], 0);
  const refused = {};
  for (const p of publishers) for (const [status, n] of Object.entries(p.refused)) refused[status] = (refused[status] ?? 0) + n;
  return { attempts: sum("attempts"), retries: sum("retries"), cutShort: sum("cutShort"), resentAfterSuccess: sum("resentAfterSuccess"), replayed: sum("replayed"), failures: sum("failures"), refused };
}

function poisson(mean) {
  let n = 0;
  for (let p = Math.exp(-mean), product = random(); product > p; product *= random()) n++;
  return n;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseArgs(argv) {
  const values = Object.fromEntries(Object.entries(OPTIONS).map(([key, [value]]) => [key, value]));
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].replace(/^--/, "").split("=", 2);
    if (flag === "help") {
      console.log("npm run soak -- [options]\n");
      for (const [key, [value, help]] of Object.entries(OPTIONS)) console.log(`  --${key.padEnd(18)} ${help} (default: ${value === "" ? "none" : value})`);
      process.exit(0);
    }
    if (!(flag in OPTIONS)) throw new Error(`unknown option --${flag} (see --help)`);
    if (typeof OPTIONS[flag][0] === "boolean") values[flag] = inline === undefined ? true : inline !== "false";
    else {
      const raw = inline ?? argv[++i];
      values[flag] = typeof OPTIONS[flag][0] === "number" ? Number(raw) : raw;
      if (typeof OPTIONS[flag][0] === "number" && !Number.isFinite(values[flag])) throw new Error(`--${flag} needs a number`);
    }
  }
  return values;
}
