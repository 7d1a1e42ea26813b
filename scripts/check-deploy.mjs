#!/usr/bin/env node
/**
 * Bundles a Worker for deploy without uploading it (`wrangler deploy --dry-run`, no account
 * needed) and fails on any warning wrangler prints, e.g. several environments and none chosen,
 * or a Durable Object class without a lifecycle entry.
 *
 *   node scripts/check-deploy.mjs [wrangler arguments, e.g. -c wrangler.conformance.toml]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Runs the dry run in `cwd`; returns wrangler's output, throws on failure or warning. */
export function checkDeploy(cwd, args = []) {
  const outdir = mkdtempSync(join(tmpdir(), "socketio-edge-bundle-"));
  try {
    const run = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, ...args], { cwd, encoding: "utf8" });
    const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
    if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${output}`);
    // Wrangler marks warnings "▲ [WARNING]" (stderr); errors fail the run above.
    if (/\[WARNING\]|▲/.test(output)) throw new Error(`wrangler deploy --dry-run printed a warning:\n${output}`);
    return output;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(checkDeploy(process.cwd(), process.argv.slice(2)));
  console.log("no warning");
}
