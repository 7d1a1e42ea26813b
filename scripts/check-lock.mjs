#!/usr/bin/env node
/**
 * Checks that package-lock.json is complete for every platform: each optional dependency of
 * each locked package (workerd's and esbuild's per-platform binaries) has an entry of its own.
 * `npm ci` refuses a lock without them, on any platform
 * ("Missing: @cloudflare/workerd-darwin-64 ... from lock file") and `npm install` rewrites it.
 *
 * Repair: delete node_modules (not the lock) and run `npm install`, which completes the lock.
 */
import { readFileSync } from "node:fs";

const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"));
const entries = lock.packages;

/** Where npm would find `name` from the package at `path` (node_modules lookup, innermost first). */
function resolve(path, name) {
  let dir = path;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ""}node_modules/${name}`;
    if (candidate in entries) return candidate;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut === -1 ? "" : dir.slice(0, cut);
  }
}

const missing = [];
for (const [path, entry] of Object.entries(entries)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolve(path, name)) missing.push(`${name} (optional dependency of ${path || "the project"})`);
  }
}
if (missing.length > 0) {
  console.error(`package-lock.json lacks ${missing.length} entries:\n  ${missing.join("\n  ")}`);
  console.error("Repair: delete node_modules (keep the lock), run `npm install`, commit package-lock.json.");
  process.exit(1);
}
console.log(`package-lock.json: complete for every platform (${Object.keys(entries).length} entries)`);
