#!/usr/bin/env node
/**
 * Starts a new project from examples/starter with this package as its dependency:
 *
 *   npm run new-project -- ../my-app
 *
 * Packs the package (`npm pack`, which builds dist/), copies examples/starter to the given
 * directory and puts the tarball there, as the project's `socketio-edge` dependency. Once the
 * package is on a registry, copying the starter and keeping its dependency at a version is
 * enough.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const starter = join(root, "examples", "starter");
/** Made by installing or running the starter in place: not part of a new project. */
const LOCAL = new Set(["node_modules", ".wrangler", "package-lock.json", ".dev.vars"]);

/** Creates the project in `target` (absent or empty); returns the tarball's file name. */
export function newProject(target) {
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty`);
  cpSync(starter, target, { recursive: true, filter: (source) => !LOCAL.has(basename(source)) });
  const output = execFileSync("npm", ["pack", "--silent", "--pack-destination", target], { cwd: root, encoding: "utf8" });
  const tarball = output.trim().split("\n").at(-1);
  const manifestPath = join(target, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  manifest.dependencies["socketio-edge"] = `file:./${tarball}`;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return tarball;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: npm run new-project -- <directory>");
    process.exit(2);
  }
  const tarball = newProject(resolve(target));
  console.log(`${target}: a new project with ${tarball}. Next: cd ${target} && npm install && npm run dev`);
}
