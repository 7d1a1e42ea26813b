/**
 * A fuzz run: the Worker under wrangler dev, well-behaved clients in the fuzz
 * room, and generated cases spread over every entry point, bounded in count
 * and time. Case i draws from its own source, derived from the seed and i, so
 * a run (or one case, `only`) replays with the same seed.
 */
import { ENTRY_POINTS } from "./cases.mjs";
import { startObservers } from "./observers.mjs";
import { Random } from "./random.mjs";
import { exceptionLines, startServer } from "./server.mjs";

const SECRET = "fuzz-jwt-secret-of-at-least-32-bytes!";
const API_KEY = "fuzz-api-key";
const CASE_TIMEOUT_MS = 15_000;

export async function runFuzz({ seed, cases, seconds, concurrency = 4, only, log = () => {} }) {
  const server = await startServer({ API_KEY, JWT_SECRET: SECRET, JWT_REQUIRED: "off" });
  const ctx = { url: server.url, wsUrl: server.url.replace(/^http/, "ws"), room: `fuzz-${seed}`, apiKey: API_KEY, secret: SECRET };
  const entries = Object.keys(ENTRY_POINTS);
  const counts = Object.fromEntries(entries.map((name) => [name, 0]));
  const busyMs = Object.fromEntries(entries.map((name) => [name, 0]));
  const failures = [];
  let observers;
  const started = Date.now();
  try {
    observers = await startObservers(server.url, ctx.room, `seq-${seed}`);
    const deadline = started + seconds * 1000;
    let next = only ?? 0;
    const last = only ?? cases - 1;
    const worker = async () => {
      while (next <= last && Date.now() < deadline) {
        const index = next++;
        const entry = entries[index % entries.length];
        const random = new Random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
        counts[entry]++;
        let problem;
        const caseStarted = Date.now();
        try {
          problem = await withTimeout(ENTRY_POINTS[entry](ctx, random), CASE_TIMEOUT_MS);
        } catch (error) {
          problem = `the case failed: ${error?.message ?? error}`;
        }
        busyMs[entry] += Date.now() - caseStarted;
        if (problem) {
          failures.push({ index, entry, problem });
          log(`FAIL case ${index} [${entry}]: ${problem}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    var elapsed = (Date.now() - started) / 1000;
    var delivery = observers ? await observers.finish() : { sent: 0, observers: [], problems: ["observers did not connect"] };
    // What the fuzz room counted: connections closed or refused by kind.
    var roomErrors = await fetch(`${server.url}/v1/rooms/${ctx.room}/stats`, { headers: { Authorization: `Bearer ${API_KEY}` } })
      .then((r) => r.json())
      .then((stats) => Object.fromEntries(Object.entries(stats.sinceStart.errors).filter(([, n]) => n > 0)))
      .catch(() => ({}));
    await new Promise((r) => setTimeout(r, 500)); // the runtime's last lines
    var output = server.output();
    var exceptions = exceptionLines(output);
    var logLines = { total: output.split("\n").length, roomErrors: output.split("\n").filter((line) => line.includes('{"event":"error"')).length };
    await server.stop();
  }
  return { seed, seconds: elapsed, counts, busyMs, failures, delivery, exceptions, logLines, roomErrors };
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve) => (timer = setTimeout(() => resolve(`no outcome within ${ms} ms`), ms))),
  ]);
}

/** The report as text: cases per entry point, failures, delivery to the observers, exceptions. */
export function formatReport(report) {
  const lines = [`seed ${report.seed}: ${Object.values(report.counts).reduce((a, b) => a + b, 0)} cases in ${report.seconds.toFixed(1)} s`];
  for (const [entry, n] of Object.entries(report.counts)) {
    lines.push(`  ${String(n).padStart(6)}  ${entry.padEnd(40)} ${(report.busyMs[entry] / Math.max(1, n)).toFixed(0).padStart(5)} ms per case`);
  }
  const d = report.delivery;
  lines.push(`observers: ${d.sent} events sent, received ${d.observers.map((o) => `${o.received} (${o.mode})`).join(", ")}`);
  for (const p of d.problems) lines.push(`  DELIVERY: ${p}`);
  for (const f of report.failures) lines.push(`  FAIL case ${f.index} [${f.entry}]: ${f.problem}`);
  lines.push(`fuzz room's error counts: ${JSON.stringify(report.roomErrors)}`);
  lines.push(`runtime log: ${report.logLines.total} lines, ${report.logLines.roomErrors} room error lines (connections closed or refused), ${report.exceptions.length} exception lines`);
  for (const line of report.exceptions.slice(0, 20)) lines.push(`  RUNTIME: ${line}`);
  const ok = isClean(report);
  lines.push(ok ? "no failure" : `FAILED: ${report.failures.length} cases, ${d.problems.length} delivery problems, ${report.exceptions.length} runtime exception lines (replay: npm run fuzz -- --seed=${report.seed})`);
  return lines.join("\n");
}

export function isClean(report) {
  return report.failures.length === 0 && report.delivery.problems.length === 0 && report.exceptions.length === 0;
}
