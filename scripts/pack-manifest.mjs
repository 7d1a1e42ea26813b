#!/usr/bin/env node
/**
 * The package.json that goes into the package (`npm pack`, `npm publish`) is this repository's
 * without what only serves development here: `scripts` (`prepare` builds from sources the
 * package does not contain; npm would list it as an install script to approve),
 * `devDependencies` and `allowScripts`.
 *
 *   node scripts/pack-manifest.mjs strip     (prepack: keeps the original in a backup)
 *   node scripts/pack-manifest.mjs restore   (postpack: puts the original back, byte for byte)
 *
 * A pack that failed between the two leaves the backup; the next strip restores it first.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const manifest = join(root, "package.json");
const backup = join(root, "package.json.pack-backup");
const DEVELOPMENT_ONLY = ["scripts", "devDependencies", "allowScripts"];

function restore() {
  if (!existsSync(backup)) return;
  copyFileSync(backup, manifest);
  rmSync(backup);
}

const mode = process.argv[2];
if (mode === "strip") {
  restore();
  copyFileSync(manifest, backup);
  const packed = JSON.parse(readFileSync(manifest, "utf8"));
  for (const key of DEVELOPMENT_ONLY) delete packed[key];
  writeFileSync(manifest, `${JSON.stringify(packed, null, 2)}\n`);
} else if (mode === "restore") {
  restore();
} else {
  console.error("usage: node scripts/pack-manifest.mjs strip|restore");
  process.exit(2);
}
