/**
 * Runs a command to its end and resolves with its exit code, without blocking
 * this process's event loop meanwhile. A server this process serves or watches
 * (Miniflare's workerd, `wrangler dev`) writes its logs into a pipe that only
 * this event loop drains: with `spawnSync` the pipe fills up, the server blocks
 * on its next log line and stops answering until the command ends.
 */
import { spawn } from "node:child_process";

export function runProcess(command, args, { timeoutMs, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    const timer = timeoutMs ? setTimeout(() => child.kill(), timeoutMs) : null;
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}
