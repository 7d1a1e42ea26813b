import { createTestHarness } from "wrangler";

export interface RunningWorker {
  url: string;
  /** Evicts a room's object, hibernating its WebSockets (as the runtime does after ~10 s idle). */
  evictRoom(room: string): Promise<void>;
  stop(): Promise<void>;
}

/** The Worker with TestRoom (server-side handlers) behind /socket.io/. */
export const TEST_WORKER_CONFIG = "./test/support/wrangler.test.toml";

/**
 * Starts the Worker of wrangler.toml (or another config) locally (workerd through wrangler) with
 * test-only vars, listening on 127.0.0.1 on a free port.
 */
export async function startWorker(
  vars: Record<string, string> = {},
  options: { configPath?: string; env?: string; secrets?: Record<string, string> } = {},
): Promise<RunningWorker> {
  const configPath = options.configPath ?? "./wrangler.toml";
  const harness = createTestHarness({ workers: [{ configPath, env: options.env, vars, secrets: options.secrets }] });
  const { url } = await harness.listen();
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") throw new Error(`unexpected host ${url.hostname}`);
  return {
    url: url.origin,
    evictRoom: (room) => harness.getWorker().evictDurableObject("ROOMS", { name: room, webSockets: "hibernate" }),
    stop: () => harness.close(),
  };
}
