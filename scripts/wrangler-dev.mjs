/**
 * Starts `wrangler dev` for a script that runs a test suite against it, and
 * resolves once it serves; `stop()` (also run when the process exits) ends it
 * with its whole process group.
 */
import { spawn } from "node:child_process";

export async function startWranglerDev(args, options = {}) {
  const server = spawn("npx", ["wrangler", "dev", ...args], { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const stop = () => {
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  await new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error("wrangler dev did not start within 60 s")), 60_000);
    const watch = (chunk) => {
      if (String(chunk).includes("Ready on")) {
        clearTimeout(timer);
        ready();
      }
    };
    server.stdout.on("data", watch);
    server.stderr.on("data", watch);
    server.on("exit", (code) => fail(new Error(`wrangler dev exited with ${code}`)));
  }).catch((error) => {
    stop();
    throw error;
  });
  return { stop };
}
