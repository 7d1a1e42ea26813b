import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const WRANGLER = resolve("node_modules/wrangler/bin/wrangler.js");

/**
 * `wrangler dev` as its own process with its own local persistence, for tests
 * that stop the whole runtime and start it again on the same port and storage.
 */
export class WranglerProcess {
  readonly persistTo = mkdtempSync(join(tmpdir(), "socketio-edge-e2e-"));
  private child: ChildProcess | null = null;
  private output = "";

  private constructor(
    readonly port: number,
    private readonly vars: Record<string, string>,
    private readonly configPath: string,
  ) {}

  static async start(vars: Record<string, string> = {}, configPath = "wrangler.toml"): Promise<WranglerProcess> {
    const server = new WranglerProcess(await freePort(), vars, configPath);
    await server.restart();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the runtime (again), on the same port and the same persisted storage. */
  async restart(): Promise<void> {
    await this.stop();
    // workerd may hold the port a moment after the process group was told to stop.
    for (let i = 0; i < 100 && !(await isFree(this.port)); i++) await new Promise((r) => setTimeout(r, 100));
    const args = [WRANGLER, "dev", "--config", this.configPath, "--ip", "127.0.0.1", "--port", String(this.port)];
    args.push("--persist-to", this.persistTo, "--log-level", "warn", "--show-interactive-dev-session=false");
    for (const [key, value] of Object.entries(this.vars)) args.push("--var", `${key}:${value}`);
    // Its own process group, so that stopping it stops workerd too.
    this.child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk) => (this.output += chunk));
    this.child.stderr!.on("data", (chunk) => (this.output += chunk));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`wrangler dev exited:\n${this.output}`);
      try {
        await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    throw new Error(`wrangler dev did not answer on ${this.url}:\n${this.output}`);
  }

  /** Stops the whole runtime (its storage stays on disk). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.persistTo, { recursive: true, force: true });
  }
}

/**
 * A free port outside the range the system hands out for port 0 (32768 and up
 * on Linux), so that no other test's server takes it while this runtime is
 * restarting.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await isFree(port)) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolvePort(true)));
  });
}
