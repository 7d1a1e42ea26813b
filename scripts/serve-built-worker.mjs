/**
 * Serves a Worker as `wrangler deploy` would ship it (wrangler's own bundle, from
 * `wrangler deploy --dry-run --outdir`), in workerd through the Miniflare that
 * wrangler itself runs, on 127.0.0.1:<port>, and resolves once it serves.
 *
 * Why not `wrangler dev`: it puts a second workerd (its proxy worker) and an
 * inspector session in front of every request. Locally that multiplies the time
 * of each request (a trivial GET: 0.9 ms in workerd, 7 ms through `wrangler
 * dev`), and a suite with 50 ms budgets over several polling requests then
 * measures the dev tooling, not the Worker. Same runtime, same bundle, no hop.
 *
 * workerd's logs come through a pipe that this process's event loop drains:
 * keep it free while the Worker serves (scripts/run-process.mjs, not spawnSync).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export async function serveBuiltWorker(configPath, { port, cwd = process.cwd() }) {
  const outdir = mkdtempSync(join(tmpdir(), "built-worker-"));
  const build = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", configPath], { cwd, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`wrangler could not build ${configPath}:\n${build.stderr}`);

  // The wrangler of this project, and the Miniflare (so the workerd) that it runs.
  const wranglerEntry = createRequire(join(cwd, "package.json")).resolve("wrangler");
  const { unstable_getMiniflareWorkerOptions } = await import(pathToFileURL(wranglerEntry).href);
  const { Miniflare, convertV4MiniflareOptions } = await import(pathToFileURL(createRequire(wranglerEntry).resolve("miniflare")).href);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(cwd, configPath));

  const files = readdirSync(outdir).filter((file) => /\.(m?js|txt|html)$/.test(file));
  const modules = ["index.js", ...files.filter((file) => file !== "index.js")].map((file) => ({
    type: /\.m?js$/.test(file) ? "ESModule" : "Text",
    path: file,
  }));
  const options = {
    host: "127.0.0.1",
    port,
    // The Worker's warnings and errors (its connect and disconnect lines would drown the output).
    handleStructuredLogs: ({ level, message }) => {
      if (level === "warn" || level === "error") console.error(message);
    },
    workers: [
      {
        name: "worker",
        modules,
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        bindings: workerOptions.bindings,
        durableObjects: workerOptions.durableObjects,
      },
    ],
  };
  // Module names are paths relative to the working directory: start from the bundle's folder.
  const previous = process.cwd();
  process.chdir(outdir);
  const miniflare = new Miniflare(convertV4MiniflareOptions ? convertV4MiniflareOptions(options) : options);
  try {
    await miniflare.ready;
  } finally {
    process.chdir(previous);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await miniflare.dispose().catch(() => {});
    rmSync(outdir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}`, stop };
}
