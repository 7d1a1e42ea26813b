#!/usr/bin/env node
/**
 * Builds the package into dist/ (`npm run build`; `prepare` runs it, so do `npm install`,
 * `npm pack` and installs from git):
 *
 * 1. tsc compiles src/ to ES modules with type declarations (tsconfig.build.json);
 * 2. the text files the Worker imports (the demo page and the browser build of
 *    socket.io-client, Text modules for wrangler in this repository) become JavaScript modules
 *    exporting the text, and the imports in dist/ point at them: a project that installs the
 *    package bundles it with no module rules of its own;
 * 3. the emitter SDK is checked to use web-standard globals only (tsconfig.emitter.json).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const dist = join(root, "dist");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

/** `import x from "<path>.html"` or `.txt`, as tsc leaves it. */
const TEXT_IMPORT = /(from\s+)(["'])([^"']+\.(?:html|txt))\2/g;
const textDir = join(dist, "text");

function* javascriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* javascriptFiles(path);
    else if (entry.name.endsWith(".js")) yield path;
  }
}

let converted = 0;
for (const file of javascriptFiles(dist)) {
  const code = readFileSync(file, "utf8");
  const sourceDir = join(root, "src", relative(dist, dirname(file)));
  const rewritten = code.replace(TEXT_IMPORT, (_match, from, quote, specifier) => {
    const source = resolve(sourceDir, specifier);
    const module = join(textDir, `${basename(source)}.js`);
    mkdirSync(textDir, { recursive: true });
    writeFileSync(module, `export default ${JSON.stringify(readFileSync(source, "utf8"))};\n`);
    converted++;
    let target = relative(dirname(file), module);
    if (!target.startsWith(".")) target = `./${target}`;
    return `${from}${quote}${target}${quote}`;
  });
  if (rewritten !== code) writeFileSync(file, rewritten);
}
if (converted === 0) throw new Error("no text import found in dist/: did src/worker/app.ts change?");

execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.emitter.json"), "--noEmit"], { stdio: "inherit" });
console.log(`dist/ built (${converted} text modules)`);
