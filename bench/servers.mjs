/**
 * Starts and stops the benchmark's subjects, each as a child process in its
 * own process group on 127.0.0.1 and a free port:
 *   project    `wrangler dev` of the repository's wrangler.toml (how users serve it locally)
 *   raw-do     `wrangler dev` of bench/raw-do/wrangler.toml (the platform floor)
 *   socket.io  node bench/socketio-server.mjs (Node socket.io 4.x)
 * The Workers are built once per bench run (buildWorkers) and served with
 * `wrangler dev <build> --no-bundle`: wrangler dev reloads on every source edit,
 * which would drop every WebSocket mid-run and mix code versions between runs.
 * Every started group is killed on stop(), and by stopAll() on exit, error or signal.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, cpuSeconds, fileLimit, isAlive, openFiles, processTree, rssKiB } from "./proc.mjs";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

export const SUBJECTS = {
  project: { label: "project", kind: "wrangler", config: "wrangler.toml" },
  // The same Worker with connection state recovery on (socket.io's default window): every broadcast is logged.
  "project-recovery": {
    label: "project + recovery",
    kind: "wrangler",
    config: "wrangler.toml",
    vars: { CONNECTION_STATE_RECOVERY_MS: "120000" },
  },
  "raw-do": { label: "raw DO", kind: "wrangler", config: join("bench", "raw-do", "wrangler.toml") },
  // One sharded room (SHARDED_ROOMS) served by k shards: SHARD_MAX_CONNECTIONS is set from N (run.mjs, shardVars).
  ...Object.fromEntries(
    [1, 2, 4, 8].map((k) => [
      `project-shards-${k}`,
      { label: `project, ${k} shard${k > 1 ? "s" : ""}`, kind: "wrangler", config: "wrangler.toml", shards: k, vars: { SHARDED_ROOMS: "bench-*" } },
    ]),
  ),
  // TestRoom (server code on request), for the shard-hop phase (bench/shard-hop.mjs).
  "shard-hop": { label: "project, TestRoom", kind: "wrangler", config: join("test", "support", "wrangler.test.toml") },
  "socket.io": { label: "socket.io", kind: "node", script: join("bench", "socketio-server.mjs") },
};

/** @type {Set<Server>} */
const running = new Set();
/** Subject name → built entry point (see buildWorkers). */
const builds = new Map();
/** Subject name → the copy of its config taken with the build. */
const configs = new Map();
let buildRoot = null;

/**
 * Builds the Worker of each wrangler subject (`wrangler deploy --dry-run
 * --outdir`, nothing is uploaded) into a temporary directory, next to a copy of
 * its config; servers started afterwards serve that build with that config, so
 * edits to the sources or to wrangler.toml during the run reach no server.
 * (The copy also leaves out .dev.vars/.env: the bench runs on wrangler.toml's vars.)
 * Returns { name: seconds }.
 */
export async function buildWorkers(names) {
  buildRoot ??= mkdtempSync(join(tmpdir(), "socketio-edge-bench-build-"));
  const times = {};
  for (const name of names) {
    const subject = SUBJECTS[name];
    if (subject.kind !== "wrangler") continue;
    const copy = join(buildRoot, `${name}.toml`);
    writeFileSync(copy, portableConfig(resolvePath(ROOT, subject.config)));
    configs.set(name, copy);
    const outdir = join(buildRoot, name);
    const t0 = Date.now();
    await new Promise((resolve, reject) => {
      execFile(
        WRANGLER,
        // Built from the original config (its [alias] and rules are relative to it), served with the copy.
        ["deploy", "--dry-run", "--config", subject.config, "--outdir", outdir],
        { cwd: ROOT, env: childEnv(), maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => (error ? reject(new Error(`building ${name}: ${error.message}\n${stdout}${stderr}`)) : resolve()),
      );
    });
    // The entry keeps its base name: index.js for src/index.ts, worker.js for worker.mjs.
    const scripts = readdirSync(outdir).filter((f) => /\.m?js$/.test(f));
    const file = scripts.length === 1 ? scripts[0] : scripts.find((f) => f.startsWith("index."));
    if (!file) throw new Error(`building ${name}: no entry among ${scripts.join(", ")}`);
    const entry = join(outdir, file);
    builds.set(name, entry);
    times[name] = (Date.now() - t0) / 1000;
  }
  return times;
}

/**
 * A wrangler config's text, usable from another directory: `main` and an
 * [assets] directory are made absolute (the other relative paths wrangler
 * knows, [alias] and rules, only matter when bundling, which the copy's users skip).
 */
function portableConfig(path) {
  const base = dirname(path);
  let table = "";
  return readFileSync(path, "utf8")
    .split("\n")
    .map((line) => {
      const header = /^\s*\[+([^\]]+)\]+/.exec(line);
      if (header) table = header[1].trim();
      const setting = /^(\s*(main|directory)\s*=\s*)"([^"]+)"(.*)$/.exec(line);
      const relevant = setting && ((table === "" && setting[2] === "main") || (table === "assets" && setting[2] === "directory"));
      return relevant && !isAbsolute(setting[3]) ? `${setting[1]}${JSON.stringify(resolvePath(base, setting[3]))}${setting[4]}` : line;
    })
    .join("\n");
}

export function removeBuilds() {
  if (buildRoot) rmSync(buildRoot, { recursive: true, force: true });
  buildRoot = null;
  builds.clear();
  configs.clear();
}

function childEnv() {
  return {
    ...process.env,
    // wrangler's `#!/usr/bin/env node` gets the Node that runs the bench (npm run: the node devDependency).
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    // A config edit during the run must not reload a server under load.
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    FORCE_COLOR: "0",
    NO_COLOR: "1",
  };
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

class Server {
  constructor(name, child, port, tmp) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}`;
    this.tmp = tmp;
    /** wrangler dev's DevTools port (wrangler subjects only). */
    this.inspectorPort = null;
    this.output = [];
    this.exited = null;
    child.on("exit", (code, signal) => (this.exited = { code, signal }));
    const keep = (chunk) => {
      for (const line of String(chunk).split("\n")) if (line.trim()) this.output.push(line);
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
  }

  /**
   * Processes whose memory counts as the server's:
   * wrangler subjects: the workerd processes, split into the runtime that runs the
   * Worker and its objects, and wrangler dev's proxy in front of it (the one
   * listening on the public port); socket.io: the node process.
   */
  processes() {
    const tree = processTree(this.pid);
    if (this.name === "socket.io") return { runtime: [this.pid], proxy: [] };
    const runtime = [];
    const proxy = [];
    for (const pid of tree) {
      const argv = commandLine(pid);
      if (!argv[0]?.endsWith("workerd")) continue;
      if (argv.some((arg) => arg.includes(`=127.0.0.1:${this.port}`))) proxy.push(pid);
      else runtime.push(pid);
    }
    return { runtime, proxy };
  }

  /** RSS (KiB) and open files of the server's processes. */
  memory() {
    const { runtime, proxy } = this.processes();
    const sum = (pids, f) => pids.reduce((n, pid) => n + f(pid), 0);
    return {
      runtimeKiB: sum(runtime, rssKiB),
      proxyKiB: sum(proxy, rssKiB),
      runtimeFiles: sum(runtime, openFiles),
      proxyFiles: sum(proxy, openFiles),
      fileLimit: Math.min(...[...runtime, ...proxy].map((pid) => fileLimit(pid))),
    };
  }

  /** CPU seconds used so far by the server's processes (runtime, proxy, and all of the tree). */
  cpu() {
    const { runtime, proxy } = this.processes();
    const sum = (pids) => pids.reduce((n, pid) => n + cpuSeconds(pid), 0);
    return { runtime: sum(runtime), proxy: sum(proxy), tree: sum(processTree(this.pid)) };
  }

  async stop() {
    if (!running.has(this)) return;
    running.delete(this);
    const tree = processTree(this.pid);
    signalGroup(this.pid, "SIGTERM");
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && tree.some(isAlive)) await sleep(100);
    signalGroup(this.pid, "SIGKILL");
    for (const pid of tree) if (isAlive(pid)) safeKill(pid, "SIGKILL");
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  tail(lines = 30) {
    return this.output.slice(-lines).join("\n");
  }
}

/**
 * Starts a subject and waits until it answers HTTP.
 * @param {keyof SUBJECTS} name
 * @param {{ vars?: Record<string, string>, fileLimit?: number, timeoutMs?: number }} options
 */
export async function startServer(name, { vars: extraVars = {}, fileLimit: wantFiles = 65536, timeoutMs = 90_000 } = {}) {
  const subject = SUBJECTS[name];
  if (!subject) throw new Error(`unknown subject ${name}`);
  const vars = { ...subject.vars, ...extraVars };
  let server;
  if (subject.kind === "wrangler") {
    const port = await freePort();
    const inspectorPort = await freePort();
    const tmp = mkdtempSync(join(tmpdir(), "socketio-edge-bench-"));
    const built = builds.get(name);
    const args = [
      "dev",
      ...(built ? [built, "--no-bundle"] : []),
      "--config", configs.get(name) ?? subject.config,
      "--ip", "127.0.0.1",
      "--port", String(port),
      "--inspector-ip", "127.0.0.1",
      "--inspector-port", String(inspectorPort),
      "--persist-to", tmp,
      "--log-level", "warn",
      "--show-interactive-dev-session=false",
    ];
    for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
    server = new Server(name, spawnInGroup(WRANGLER, args, wantFiles), port, tmp);
    server.inspectorPort = inspectorPort;
  } else {
    const child = spawnInGroup(process.execPath, [subject.script], wantFiles);
    const port = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("socket.io server did not start")), timeoutMs);
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const match = /LISTENING (\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.on("exit", () => reject(new Error(`socket.io server exited: ${out}`)));
    });
    server = new Server(name, child, port, null);
  }
  running.add(server);
  try {
    await waitForHttp(server, timeoutMs);
  } catch (error) {
    const tail = server.tail();
    await server.stop();
    throw new Error(`${name} did not start: ${error.message}\n${tail}`);
  }
  return server;
}

/**
 * Spawns through /bin/sh to raise the open-files limit first (wrangler dev's
 * proxy holds several descriptors per WebSocket): the hard limit is raised when
 * allowed, otherwise the soft limit goes up to the hard one.
 */
function spawnInGroup(command, args, files) {
  const script = `ulimit -Hn ${files} 2>/dev/null; ulimit -n ${files} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  return spawn("/bin/sh", ["-c", script, "sh", command, ...args], {
    cwd: ROOT,
    detached: true, // own process group: stop() kills workerd and esbuild too
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv(),
  });
}

async function waitForHttp(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`exited (${JSON.stringify(server.exited)})`);
    try {
      await fetch(`${server.url}/`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await sleep(150);
    }
  }
  throw new Error(`no answer on ${server.url} within ${timeoutMs} ms`);
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

function safeKill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** Stops every server still running (async, for normal paths). */
export async function stopAll() {
  await Promise.all([...running].map((server) => server.stop()));
}

/** Last resort on process exit: SIGKILL every group still running (sync). */
export function killAllSync() {
  for (const server of running) {
    signalGroup(server.pid, "SIGKILL");
    if (server.tmp) rmSync(server.tmp, { recursive: true, force: true });
  }
  running.clear();
  removeBuilds();
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
