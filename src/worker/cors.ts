import type { ServerOptions } from "../config";

/** Whether a browser on `origin` may talk to the Socket.IO endpoint (no Origin: not a browser). */
export function isOriginAllowed(origin: string | null, allowed: ServerOptions["corsOrigins"]): boolean {
  return origin === null || allowed === "*" || allowed.includes(origin);
}

/** Adds CORS headers for an allowed browser origin (credentials included, as socket.io's `withCredentials` needs). */
export function withCors(response: Response, origin: string | null): Response {
  if (origin === null || response.status === 101) return response;
  const result = new Response(response.body, response);
  result.headers.set("Access-Control-Allow-Origin", origin);
  result.headers.set("Access-Control-Allow-Credentials", "true");
  result.headers.append("Vary", "Origin");
  return result;
}

export function preflight(request: Request): Response {
  const origin = request.headers.get("Origin") ?? "*";
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Credentials": "true",
      "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
      "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers") ?? "Content-Type",
      "Access-Control-Max-Age": "86400",
      Vary: "Origin",
    },
  });
}
