#!/usr/bin/env node
/**
 * Runs socket.io-client's own Node test suite (packages/socket.io-client/test in
 * socketio/socket.io) against this project, serving the suite's test server as
 * ported in examples/socket.io-client-suite, or (--reference) against socket.io
 * itself with the suite's own server, for comparison.
 *
 *   npm run test:client-suite -- <checkout of socketio/socket.io> [--reference [--server-apart]]
 *       [--dev-proxy] [--one-process] [--runs=3] [--grep=<title part>]
 *
 * By default each describe block of the suite runs in a mocha process of its
 * own, against the Worker served by workerd without wrangler dev's proxy hop.
 * docs/porting.md ("The client suite as a yardstick") says why, with figures.
 *   --one-process   the whole suite in one mocha process, as socket.io runs it: two of
 *                   its tests then race the previous test's last responses, which only
 *                   a server inside the test process answers in time;
 *   --dev-proxy     the Worker through `wrangler dev` (every request crosses its proxy);
 *   --server-apart  with --reference: socket.io's server in a process of its own, as ours is.
 *
 * The suite is copied to a temporary folder and pointed at a free port on
 * 127.0.0.1 (it names http://localhost:3210); the client under test is this
 * project's socket.io-client. The suite's few tools (mocha, tsx, expect.js, …)
 * are installed once into node_modules/.cache/socket.io-client-suite.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "./run-process.mjs";
import { serveBuiltWorker } from "./serve-built-worker.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const repo = args.find((a) => !a.startsWith("--")) ?? process.env.SOCKET_IO_REPO;
const reference = args.includes("--reference");
const runs = Number(args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 1);
const throughDevProxy = args.includes("--dev-proxy");
const serverApart = args.includes("--server-apart");
const oneProcess = args.includes("--one-process");
const grep = args.find((a) => a.startsWith("--grep="))?.slice(7);
const known = ["--reference", "--server-apart", "--dev-proxy", "--one-process", "--runs=", "--grep="];
const unknown = args.filter((a) => a.startsWith("--") && !known.some((k) => (k.endsWith("=") ? a.startsWith(k) : a === k)));
if (!repo || !(runs >= 1) || (serverApart && !reference) || unknown.length > 0) {
  if (unknown.length > 0) console.error(`unknown option ${unknown.join(", ")}`);
  console.error(
    "usage: npm run test:client-suite -- <checkout of socketio/socket.io> [--reference [--server-apart]] [--dev-proxy] [--one-process] [--runs=N] [--grep=<title part>]",
  );
  process.exit(2);
}
const suite = resolve(repo, "packages/socket.io-client/test");
if (!existsSync(join(suite, "support/server.ts"))) {
  console.error(`no socket.io-client test suite at ${suite}`);
  process.exit(2);
}

// --- the suite's tools, installed once -------------------------------------
const TOOLS = {
  mocha: "^10.6.0",
  tsx: "^4.19.0",
  "expect.js": "0.3.1",
  "has-cors": "1.1.0",
  "text-blob-builder": "0.0.1",
  "@sinonjs/fake-timers": "^11.2.2",
  "engine.io-client": "^6.6.0",
  "base64-arraybuffer": "^1.0.2",
};
const cache = join(root, "node_modules/.cache/socket.io-client-suite");
const manifest = JSON.stringify({ name: "socket.io-client-suite-tools", private: true, dependencies: TOOLS }, null, 2);
if (!existsSync(join(cache, "node_modules/.bin/mocha")) || readFileSync(join(cache, "package.json"), "utf8") !== manifest) {
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, "package.json"), manifest);
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: cache, stdio: "inherit" });
  if (install.status !== 0) process.exit(1);
}

// --- a copy of the suite, aimed at our port --------------------------------
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const work = mkdtempSync(join(tmpdir(), "socket.io-client-suite-"));
cpSync(suite, join(work, "test"), { recursive: true });
symlinkSync(join(cache, "node_modules"), join(work, "node_modules"));
// `import { io } from ".."` and `../build/cjs/url`: this project's socket.io-client.
symlinkSync(join(root, "node_modules/socket.io-client/build"), join(work, "build"));
writeFileSync(join(work, "package.json"), JSON.stringify({ name: "socket.io-client", main: "./build/cjs/index.js" }));
for (const file of listFiles(join(work, "test"))) {
  const text = readFileSync(file, "utf8");
  if (text.includes("http://localhost:3210")) writeFileSync(file, text.replaceAll("http://localhost:3210", base));
}
const server = join(work, "test/support/server.ts");
if (reference) {
  // The suite's own server, on socket.io as this project's devDependency, bound to 127.0.0.1 only. Its
  // HTTP server answers other paths 404, as the one socket.io creates for `new Server(3210)` does.
  const http404 = `require("node:http").createServer((_req, res) => { res.writeHead(404); res.end(); })`;
  const source = readFileSync(server, "utf8")
    .replace('from "socket.io"', `from ${JSON.stringify(join(root, "node_modules/socket.io"))}`)
    .replace("new Server(3210,", `new Server(${http404}.listen(${port}, "127.0.0.1"),`);
  if (!source.includes(`listen(${port}`)) throw new Error("could not aim the reference server at the free port");
  writeFileSync(server, source);
}
if (!reference || serverApart) {
  // The server runs in a process of its own, started below; the suite's hooks have nothing to start.
  writeFileSync(join(work, "test/support/hooks.ts"), "export const mochaHooks = {};\n");
}

// --- the server under test -------------------------------------------------
let worker = null;
const stop = () => {
  worker?.stop();
  rmSync(work, { recursive: true, force: true });
};
process.on("exit", stop);
process.on("SIGINT", () => process.exit(130));
const config = "examples/socket.io-client-suite/wrangler.toml";
if (reference && serverApart) {
  worker = await startReferenceApart();
} else if (!reference && throughDevProxy) {
  worker = await startWranglerDev(["-c", config, "--ip", "127.0.0.1", "--port", String(port)], { cwd: root });
} else if (!reference) {
  worker = await serveBuiltWorker(config, { port, cwd: root });
}

// --- the suite, `runs` times -----------------------------------------------
// One mocha process per describe block: its tests keep their order and hooks, and nothing of the
// block before (its last responses, its timers) is still in flight when the next block starts.
const blocks = oneProcess ? null : await describeBlocks();
const failures = new Map();
let total = 0;
let passedLast = 0;
for (let run = 1; run <= runs; run++) {
  const reports = [];
  if (blocks === null) reports.push(await mocha(grep, `${run}`));
  else for (const [i, pattern] of blocks.entries()) reports.push(await mocha(pattern, `${run}-${i}`));
  const stats = { tests: 0, passes: 0, failures: 0, pending: 0 };
  for (const report of reports) {
    for (const key of Object.keys(stats)) stats[key] += report.stats[key];
    for (const test of report.failures) {
      const seen = failures.get(test.fullTitle) ?? { runs: 0, message: test.err?.message ?? "" };
      seen.runs++;
      failures.set(test.fullTitle, seen);
    }
  }
  total = stats.tests;
  passedLast = stats.passes;
  console.log(`run ${run}: ${stats.passes} passing, ${stats.failures} failing, ${stats.pending} pending (of ${stats.tests})`);
}
const against = reference ? `socket.io (reference${serverApart ? ", server in its own process" : ""})` : `socketio-edge${throughDevProxy ? " (through wrangler dev)" : ""}`;
console.log(`\n${against}, ${oneProcess ? "one mocha process" : "one mocha process per describe block"}: ${passedLast}/${total} passing in the last run`);
for (const [title, { runs: count, message }] of failures) {
  console.log(`  failed ${count}/${runs}: ${title}\n      ${message.split("\n")[0]}`);
}
await worker?.stop();
stop();
process.exit(failures.size === 0 ? 0 : 1);

/** Runs mocha over the suite (the tests matching `pattern`, or all) and returns its JSON report. */
async function mocha(pattern, name, extra = []) {
  const output = join(work, `report-${name}.json`);
  rmSync(output, { force: true });
  await runProcess(
    join(cache, "node_modules/.bin/mocha"),
    ["--import=tsx", "--require", "test/support/hooks.ts", "--exit", "--reporter", "json", "--reporter-option", `output=${output}`, ...(pattern ? ["--grep", pattern] : []), ...extra, "test/index.ts"],
    { cwd: work, stdio: ["ignore", "ignore", "inherit"], timeoutMs: 600_000 },
  );
  if (!existsSync(output)) {
    // The process died before its reporter wrote anything: count it as one failed test.
    return { stats: { tests: 1, passes: 0, failures: 1, pending: 0 }, failures: [{ fullTitle: pattern ?? "(the whole suite)", err: { message: "mocha wrote no report" } }] };
  }
  return JSON.parse(readFileSync(output, "utf8"));
}

/** A --grep pattern per describe block of the suite (its tests that match --grep), in the suite's order. */
async function describeBlocks() {
  const blocks = new Map();
  for (const { title, fullTitle } of (await mocha(grep, "list", ["--dry-run"])).tests) {
    const block = fullTitle.slice(0, fullTitle.length - title.length).trimEnd();
    if (!blocks.has(block)) blocks.set(block, new Set());
    blocks.get(block).add(title);
  }
  return [...blocks].map(([block, titles]) => {
    const alternatives = [...titles].map(escapeRegExp).join("|");
    return `^${block ? `${escapeRegExp(block)} ` : ""}(?:${alternatives})$`;
  });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The suite's own server on socket.io, in a Node process of its own (as the Worker is). */
async function startReferenceApart() {
  const serve = 'import { createServer } from "./server";\nconst { httpServer } = createServer();\nconst ready = () => console.log("listening");\nif (httpServer.listening) ready();\nelse httpServer.once("listening", ready);\n';
  writeFileSync(join(work, "test/support/serve.ts"), serve);
  const child = spawn(join(cache, "node_modules/.bin/tsx"), ["test/support/serve.ts"], { cwd: work, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((ready, fail) => {
    child.stdout.once("data", () => {
      child.stdout.resume();
      ready();
    });
    child.once("exit", (code) => fail(new Error(`the reference server exited with ${code}`)));
  });
  return { stop: () => child.kill() };
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port: p } = probe.address();
      probe.close(() => resolvePort(p));
    });
  });
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
