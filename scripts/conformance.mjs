#!/usr/bin/env node
/**
 * Runs the official Engine.IO v4 and Socket.IO v5 protocol test suites against
 * this project served in its conformance configuration (`npm run dev:conformance`).
 *
 *   npm run test:conformance -- <path to a checkout of socketio/socket.io>
 *
 * The suites live in that repository under docs/engine.io-protocol/v4-test-suite
 * and docs/socket.io-protocol/v5-test-suite; they expect the server on
 * http://localhost:3000.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess } from "./run-process.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const repo = process.argv[2] ?? process.env.SOCKET_IO_REPO;
if (!repo) {
  console.error("usage: npm run test:conformance -- <path to a checkout of socketio/socket.io>");
  process.exit(2);
}
const suites = ["docs/engine.io-protocol/v4-test-suite", "docs/socket.io-protocol/v5-test-suite"].map((s) => resolve(repo, s));
for (const suite of suites) {
  if (!existsSync(join(suite, "test-suite.js"))) {
    console.error(`no test suite at ${suite}`);
    process.exit(2);
  }
}

process.on("SIGINT", () => process.exit(130));
const server = await startWranglerDev(["-c", "wrangler.conformance.toml", "--port", "3000"]);

let failed = 0;
for (const suite of suites) {
  console.log(`\n== ${suite}`);
  if (!existsSync(join(suite, "node_modules"))) await runProcess("npm", ["ci", "--no-audit", "--no-fund"], { cwd: suite, stdio: "inherit" });
  // Not spawnSync: wrangler dev's log lines reach this process through a pipe it must keep draining.
  if ((await runProcess("npx", ["mocha", "test-suite.js"], { cwd: suite, stdio: "inherit" })) !== 0) failed++;
}
server.stop();
process.exit(failed === 0 ? 0 : 1);
