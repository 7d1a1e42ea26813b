/**
 * The bench's idle-room phases (`--phases=idle,wake`):
 *   idle  what one ping round of a hibernating room costs: runtime CPU per round,
 *         wakes per round, and how long a round takes to reach every client (the
 *         raw DO, given RAW_PING_INTERVAL, pings from an alarm as the floor);
 *   wake  how much later the first message after hibernation reaches the last of
 *         N receivers than a message in an awake room (same room, same clients).
 * Both start their own server with heartbeat settings of their own (passed as vars).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { LoadRoom } from "./load.mjs";
import { sleep, startServer } from "./servers.mjs";

/** The runtime hibernates an object after about 10 s without events (wrangler dev). */
const HIBERNATE_AFTER_MS = 10_000;

/** The API key the project's servers of these phases get, to read a room's stats. */
const API_KEY = randomBytes(24).toString("hex");

/**
 * The room's counters since start (GET /v1/rooms/{room}/stats), or null for a
 * subject without them. A read is a call into the object: when it woke the
 * object, that wake is taken off (`wokeForThisRead`).
 */
async function readStats(server, room) {
  if (server.name !== "project") return null;
  try {
    const askedAt = Date.now();
    const response = await fetch(`${server.url}/v1/rooms/${room}/stats`, { headers: { Authorization: `Bearer ${API_KEY}` } });
    if (!response.ok) return null;
    const { sinceStart, awakeSince } = await response.json();
    return { ...sinceStart, awakeSince, constructed: sinceStart.wakes - (awakeSince >= askedAt ? 1 : 0) };
  } catch {
    return null;
  }
}

/** Groups ping receipt times into rounds (a gap of more than a quarter interval starts a new one). */
function rounds(times, intervalMs) {
  const sorted = [...times].sort((a, b) => a - b);
  const out = [];
  for (const t of sorted) {
    const last = out.at(-1);
    if (last && t - last.end < intervalMs / 4) {
      last.end = t;
      last.pings++;
    } else out.push({ start: t, end: t, pings: 1 });
  }
  return out;
}

function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * An idle room of N sockets with a ping interval longer than the runtime's
 * hibernation timeout, so every round is a wake. The raw DO pings from an alarm
 * and does nothing else: the floor of a round. After every client has had its
 * first ping (two intervals), `roundsToMeasure` rounds are measured: runtime CPU
 * over them divided by the rounds seen, and each round's spread (first to last
 * client's ping).
 */
export async function measureIdleRounds(subject, n, { intervalMs, roundsToMeasure, payloadBytes, connect }) {
  const figure = { subject, n, intervalMs };
  // The connect timeout passes during the warm-up: no connect deadline falls in the measured rounds.
  const vars =
    subject === "project"
      ? { PING_INTERVAL: String(intervalMs), PING_TIMEOUT: String(Math.round(intervalMs * 0.8)), CONNECT_TIMEOUT: String(intervalMs), API_KEY }
      : { RAW_PING_INTERVAL: String(intervalMs) };
  return phase(figure, subject, vars, async (server, track) => {
    const room = track(new LoadRoom(server.wsUrl, "idle-rounds", { payloadBytes, maxMessages: 2 }));
    figure.connectMs = await room.connect(n, connect);
    // Every client's first ping is its own (pingInterval after its handshake); then they share the rounds.
    await sleep(2 * intervalMs + 1_000);
    const pingTimes = [];
    room.onPing = (t) => pingTimes.push(t);
    const s0 = await readStats(server, "idle-rounds");
    const cpu0 = server.cpu();
    const t0 = performance.now();
    await sleep(roundsToMeasure * intervalMs);
    const cpu1 = server.cpu();
    const s1 = await readStats(server, "idle-rounds");
    figure.idleSeconds = (performance.now() - t0) / 1000;
    room.onPing = null;
    const seen = rounds(pingTimes, intervalMs);
    figure.rounds = seen.length;
    figure.pingsPerRound = median(seen.map((r) => r.pings));
    figure.roundSpreadMs = median(seen.map((r) => r.end - r.start));
    figure.runtimeCpuMsPerRound = seen.length ? ((cpu1.runtime - cpu0.runtime) * 1000) / seen.length : NaN;
    figure.proxyCpuMsPerRound = seen.length ? ((cpu1.proxy - cpu0.proxy) * 1000) / seen.length : NaN;
    figure.runtimeCpuMsPerRoundPer1k = (figure.runtimeCpuMsPerRound * 1000) / (n + 1);
    if (s0 && s1) {
      figure.wakes = s1.constructed - s0.constructed;
      figure.alarms = s1.alarms - s0.alarms;
      figure.pongsInJs = s1.pongsInJs - s0.pongsInJs;
    }
    figure.verify = room.verify();
    figure.ok = figure.verify.ok && seen.length > 0 && figure.pingsPerRound === n + 1;
  });
}

/**
 * The same room awake and hibernated: `cycles` times, a few messages while the
 * room is awake, then an idle pause past the hibernation timeout and one more
 * message. Each figure is the time from sending to the last of N receivers.
 * The project gets a ping interval and connect timeout longer than the phase, so no alarm wakes it.
 */
export async function measureWake(subject, n, { cycles, payloadBytes, connect }) {
  const figure = { subject, n, cycles };
  const vars = subject === "project" ? { PING_INTERVAL: "600000", PING_TIMEOUT: "500000", CONNECT_TIMEOUT: "600000", API_KEY } : {};
  return phase(figure, subject, vars, async (server, track) => {
    const room = track(new LoadRoom(server.wsUrl, "wake", { payloadBytes, maxMessages: cycles * 6 + 2 }));
    figure.connectMs = await room.connect(n, connect);
    const deliver = async () => {
      const t0 = performance.now();
      const target = room.completed + 1;
      room.send(t0);
      if (!(await room.waitCompleted(target, 30_000))) throw new Error("a message did not reach every receiver");
      return performance.now() - t0;
    };
    const awake = [];
    const hibernated = [];
    let wakes = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (let i = 0; i < 5; i++) {
        awake.push(await deliver());
        await sleep(200);
      }
      await sleep(HIBERNATE_AFTER_MS + 5_000);
      // Read after the message only (a read wakes the object): did this instance start for it?
      const sentAt = Date.now();
      hibernated.push(await deliver());
      const after = await readStats(server, "wake");
      if (after && after.awakeSince >= sentAt - 50) wakes++;
    }
    figure.awakeMs = median(awake);
    figure.hibernatedMs = median(hibernated);
    figure.extraMs = figure.hibernatedMs - figure.awakeMs;
    figure.samples = { awake, hibernated };
    if (subject === "project") figure.wokeFromHibernation = wakes;
    figure.verify = room.verify();
    figure.ok = figure.verify.ok;
  });
}

/** Starts `subject` with `vars`, runs `body(server, track)`, and stops the rooms it tracked and the server; a failure goes into the figure. */
async function phase(figure, subject, vars, body) {
  let server = null;
  const rooms = [];
  try {
    server = await startServer(subject, { vars });
    await body(server, (room) => (rooms.push(room), room));
  } catch (error) {
    figure.error = String(error?.message ?? error).split("\n")[0];
    figure.ok = false;
  } finally {
    for (const room of rooms) await room.close();
    if (server) await server.stop();
  }
  return figure;
}
