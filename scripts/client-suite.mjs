#!/usr/bin/env node
/**
 * Runs socket.io-client's own Node test suite (packages/socket.io-client/test in
 * socketio/socket.io) against this project, serving the suite's test server as
 * ported in examples/socket.io-client-suite, or (--reference) against socket.io
 * itself with the suite's own server, for comparison.
 *
 *   npm run test:client-suite -- <checkout of socketio/socket.io> [--reference] [--no-dev-proxy] [--runs=3] [--grep=<title part>]
 *
 * --no-dev-proxy serves the Worker without wrangler dev's proxy hop instead
 * (scripts/serve-built-worker.mjs says why; docs/porting.md, what it shows).
 *
 * The suite is copied to a temporary folder and pointed at a free port on
 * 127.0.0.1 (it names http://localhost:3210); the client under test is this
 * project's socket.io-client. The suite's few tools (mocha, tsx, expect.js, …)
 * are installed once into node_modules/.cache/socket.io-client-suite.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serveBuiltWorker } from "./serve-built-worker.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const repo = args.find((a) => !a.startsWith("--")) ?? process.env.SOCKET_IO_REPO;
const reference = args.includes("--reference");
const runs = Number(args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 1);
const withoutDevProxy = args.includes("--no-dev-proxy");
const grep = args.find((a) => a.startsWith("--grep="))?.slice(7);
if (!repo || !(runs >= 1)) {
  console.error("usage: npm run test:client-suite -- <checkout of socketio/socket.io> [--reference] [--no-dev-proxy] [--runs=N] [--grep=<title part>]");
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
} else {
  // The server is the Worker started below; the suite's hooks have nothing to start.
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
if (!reference && withoutDevProxy) {
  worker = await serveBuiltWorker(config, { port, cwd: root });
} else if (!reference) {
  worker = await startWranglerDev(["-c", config, "--ip", "127.0.0.1", "--port", String(port)], { cwd: root });
}

// --- the suite, `runs` times -----------------------------------------------
const failures = new Map();
let total = 0;
let passedLast = 0;
for (let run = 1; run <= runs; run++) {
  const report = join(work, `report-${run}.json`);
  spawnSync(
    join(cache, "node_modules/.bin/mocha"),
    ["--import=tsx", "--require", "test/support/hooks.ts", "--exit", "--reporter", "json", "--reporter-option", `output=${report}`, ...(grep ? ["--grep", grep] : []), "test/index.ts"],
    { cwd: work, stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 },
  );
  const { stats, failures: failed } = JSON.parse(readFileSync(report, "utf8"));
  total = stats.tests;
  passedLast = stats.passes;
  console.log(`run ${run}: ${stats.passes} passing, ${stats.failures} failing, ${stats.pending} pending (of ${stats.tests})`);
  for (const test of failed) {
    const seen = failures.get(test.fullTitle) ?? { runs: 0, message: test.err?.message ?? "" };
    seen.runs++;
    failures.set(test.fullTitle, seen);
  }
}
console.log(`\n${reference ? "socket.io (reference)" : "socketio-edge"}: ${passedLast}/${total} passing in the last run`);
for (const [title, { runs: count, message }] of failures) {
  console.log(`  failed ${count}/${runs}: ${title}\n      ${message.split("\n")[0]}`);
}
await worker?.stop();
stop();
process.exit(failures.size === 0 ? 0 : 1);

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
