import { createTestHarness } from "wrangler";

export interface RunningWorker {
  url: string;
  /** Evicts a room's object, hibernating its WebSockets (as the runtime does after ~10 s idle). */
  evictRoom(room: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the Worker of wrangler.toml locally (workerd through wrangler) with
 * test-only vars, listening on 127.0.0.1 on a free port.
 */
export async function startWorker(vars: Record<string, string> = {}, env?: string): Promise<RunningWorker> {
  const harness = createTestHarness({ workers: [{ configPath: "./wrangler.toml", env, vars }] });
  const { url } = await harness.listen();
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") throw new Error(`unexpected host ${url.hostname}`);
  return {
    url: url.origin,
    evictRoom: (room) => harness.getWorker().evictDurableObject("ROOMS", { name: room, webSockets: "hibernate" }),
    stop: () => harness.close(),
  };
}
