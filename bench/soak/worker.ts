/**
 * The shipped Worker plus one route for the soak run (bench/soak/run.mjs) and
 * nothing else: `POST /_soak/evict?object=<name>` evicts the room object of
 * that name (a room's own name, or a shard's, `room#3`: src/shard/names.ts) the
 * way the runtime does when it hibernates it (memory gone, hibernatable
 * WebSockets kept), through workerd's `workerd:unsafe` module, which only
 * exists in the local runtime (compatibility flag `unsafe_module`, set in
 * bench/soak/wrangler.soak.toml only).
 *
 * Fail-closed: without the secret SOAK_CONTROL_KEY the route does not exist
 * (404, as in the shipped Worker), and it needs `Authorization: Bearer <key>`.
 * The shipped Worker (src/) has no such route whatever its configuration.
 */
import app from "../../src/index";

export * from "../../src/index";

interface WorkerdUnsafe {
  evict(stub: DurableObjectStub, options: { webSockets: "hibernate" | "close" }): Promise<void>;
}

/** A module of the local runtime only: the bundler must not look for it, so its name is built at run time. */
const unsafeModule = (): Promise<{ default: WorkerdUnsafe }> => import(["workerd", "unsafe"].join(":"));

interface SoakEnv {
  ROOMS: DurableObjectNamespace;
  SOAK_CONTROL_KEY?: string;
}

export default {
  async fetch(request: Request, env: SoakEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/_soak/evict") return app.fetch(request, env, ctx);
    const key = env.SOAK_CONTROL_KEY?.trim();
    if (!key) return new Response("Not Found", { status: 404 });
    if (request.method !== "POST" || request.headers.get("Authorization") !== `Bearer ${key}`) {
      return new Response("Unauthorized", { status: 401 });
    }
    const name = url.searchParams.get("object");
    if (!name) return new Response("object missing", { status: 400 });
    try {
      const { default: workerdUnsafe } = await unsafeModule();
      await workerdUnsafe.evict(env.ROOMS.get(env.ROOMS.idFromName(name)), { webSockets: "hibernate" });
      return Response.json({ evicted: true });
    } catch (error) {
      // An object that is not running has nothing to evict.
      if (/not currently running/.test(String(error))) return Response.json({ evicted: false });
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
