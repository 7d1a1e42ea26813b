#!/usr/bin/env node
/**
 * CI check of the package as a project that installs it sees it: packs it, makes a new project
 * from examples/starter in a temporary directory (scripts/new-project.mjs), installs it (the
 * tarball, other dependencies from the registry), type-checks it, runs its test against
 * wrangler's local runtime, and bundles it for deploy (scripts/check-deploy.mjs: no warning).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkDeploy } from "./check-deploy.mjs";
import { newProject } from "./new-project.mjs";

const project = mkdtempSync(join(tmpdir(), "socketio-edge-starter-"));
const run = (command, args) => {
  console.log(`\n[starter] ${command} ${args.join(" ")}`);
  return execFileSync(command, args, { cwd: project, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
};
try {
  console.log(`[starter] packed ${newProject(project)}`);
  process.stdout.write(run("npm", ["install", "--no-audit", "--no-fund"]));
  process.stdout.write(run("npm", ["run", "typecheck"]));
  process.stdout.write(run("npm", ["test"]));
  // The emitter entry point as a Node backend imports it: plain ES modules, no build step.
  process.stdout.write(run(process.execPath, ["--input-type=module", "-e", 'const { Emitter } = await import("socketio-edge/emitter"); console.log(typeof Emitter);']));
  console.log("\n[starter] wrangler deploy --dry-run");
  process.stdout.write(checkDeploy(project));
  console.log("\n[starter] ok");
} finally {
  rmSync(project, { recursive: true, force: true });
}
