/**
 * The shipped Worker (plus the soak's eviction route, bench/soak/worker.ts) in
 * wrangler's local runtime, the same dev environment `wrangler dev` runs (its
 * proxy in front, workerd behind), with its storage persisted in a directory of
 * its own, so the soak can stop and start the whole runtime on the same port
 * and storage, evict one room object, and read the runtime's memory.
 *
 * Evictions go over HTTP to the Worker, not through wrangler's own dev control
 * from this process: that call blocks this process's event loop until the
 * runtime answers, and under load the runtime can be waiting for this process
 * (its logs), which hung a 10-minute run for good.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { commandLine, openFiles, processTree, rssKiB } from "../proc.mjs";

const CONFIG = "bench/soak/wrangler.soak.toml";

export class SoakRuntime {
  persistTo = mkdtempSync(join(tmpdir(), "socketio-edge-soak-"));
  worker = null;
  port = 0;

  controlKey = randomBytes(24).toString("hex");

  constructor(vars, secrets) {
    this.bindings = { SOAK_CONTROL_KEY: { type: "secret_text", value: this.controlKey } };
    for (const [key, value] of Object.entries(vars)) this.bindings[key] = { type: "plain_text", value };
    for (const [key, value] of Object.entries(secrets)) this.bindings[key] = { type: "secret_text", value };
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port ||= await freePort();
    for (let i = 0; i < 100 && !(await isFree(this.port)); i++) await sleep(100);
    this.worker = await unstable_startWorker({
      config: CONFIG,
      bindings: this.bindings,
      dev: {
        server: { hostname: "127.0.0.1", port: this.port },
        persist: this.persistTo,
        watch: false,
        inspector: false,
        logLevel: "error",
      },
    });
    await this.worker.url;
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        if (Date.now() > until) throw new Error(`the runtime did not answer on ${this.url}`);
      }
      await sleep(100);
    }
  }

  /** Stops the whole runtime (workerd and the proxy in front); its storage stays on disk. */
  async stop() {
    const worker = this.worker;
    this.worker = null;
    await worker?.dispose();
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  /**
   * Evicts a room object by its name (a room's, or a shard's: `room#3`): its memory is gone (polling sessions with it), its
   * hibernatable WebSockets stay open, and the next event builds it again from
   * storage and the sockets' attachments. False when the object was not running.
   */
  async evict(object) {
    const response = await fetch(`${this.url}/_soak/evict?object=${encodeURIComponent(object)}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.controlKey}` },
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw new Error(`eviction of ${object}: ${response.status} ${await response.text()}`);
    return (await response.json()).evicted;
  }

  /**
   * Resident memory and open files of the runtime's two workerd processes: the
   * one running the Worker and its room objects, and the proxy in front of it
   * (the one listening on the public port).
   */
  sample() {
    const workerd = processTree(process.pid).filter((pid) => commandLine(pid).some((arg) => /workerd$/.test(arg)));
    const isProxy = (pid) => commandLine(pid).some((arg) => arg.endsWith(`127.0.0.1:${this.port}`));
    const sum = (pids, read) => pids.reduce((total, pid) => total + read(pid), 0);
    return {
      workerKiB: sum(workerd.filter((pid) => !isProxy(pid)), rssKiB),
      proxyKiB: sum(workerd.filter(isProxy), rssKiB),
      openFiles: sum(workerd, openFiles),
    };
  }

  async dispose() {
    await this.stop();
    rmSync(this.persistTo, { recursive: true, force: true });
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free port below the range the system hands out for port 0, so nothing takes it during a restart. */
async function freePort() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await isFree(port)) return port;
  }
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
