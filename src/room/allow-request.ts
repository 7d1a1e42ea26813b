import type { EngineSettings } from "../config";
import { EngineError, type TransportName } from "../engine.io/protocol";

export type AllowResult = boolean | string;

/** Runs socket.io's callback form of `allowRequest` (none: every handshake is allowed). */
export function allowedBy(hook: EngineSettings["allowRequest"], request: Request): AllowResult | Promise<AllowResult> {
  if (hook === undefined) return true;
  return new Promise((resolve) => hook(request, (err, success) => resolve(success ? true : err || false)));
}

/**
 * The response refusing a handshake, as engine.io answers it, or null when it
 * is allowed: polling gets 403 `{"code":4,"message":...}`, a WebSocket upgrade
 * gets 400 with the message as text (engine.io's abortUpgrade). A check that
 * throws refuses (logged): it fails closed.
 */
export async function refuseHandshake(check: () => AllowResult | Promise<AllowResult>, transport: TransportName): Promise<Response | null> {
  let result: AllowResult;
  try {
    result = await check();
  } catch (error) {
    console.error("allowRequest failed:", error);
    result = false;
  }
  if (result === true) return null;
  const message = typeof result === "string" && result !== "" ? result : EngineError.FORBIDDEN.message;
  if (transport === "websocket") return new Response(message, { status: 400, headers: { "Content-Type": "text/html" } });
  return Response.json({ code: EngineError.FORBIDDEN.code, message }, { status: 403 });
}
