/**
 * The Worker under `wrangler dev` on 127.0.0.1 and a free port, with its own
 * local storage, and everything the runtime prints, to look for exceptions.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const WRANGLER = resolve("node_modules/wrangler/bin/wrangler.js");

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function startServer(vars) {
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), "socketio-edge-fuzz-"));
  const args = [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--show-interactive-dev-session=false"];
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`);
    if (Date.now() > deadline) {
      stop();
      throw new Error(`wrangler dev did not answer on ${url}:\n${output}`);
    }
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    /** What the runtime printed since it started. */
    output: () => output,
    async stop() {
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      stop();
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/**
 * Lines of the runtime's output that show an exception that escaped a handler
 * or was caught as unexpected (the rooms' own JSON log lines are expected).
 */
export function exceptionLines(output) {
  return output
    .split("\n")
    .filter((line) => /Uncaught|\bat async\b|RangeError|TypeError|SyntaxError|ReferenceError|unexpected error|failed:|\[ERROR\]|Internal Server Error/i.test(line))
    .filter((line) => !line.trimStart().startsWith('{"event":'));
}
