import { describe, expect, it } from "vitest";
import { readServerOptions } from "../../src/config";
import { isOriginAllowed, preflight, withCors } from "../../src/worker/cors";

describe("CORS", () => {
  it("reads CORS_ORIGINS as * or a list", () => {
    expect(readServerOptions({ CORS_ORIGINS: "*" } as never).corsOrigins).toBe("*");
    expect(readServerOptions({ CORS_ORIGINS: "https://a.example, https://b.example" } as never).corsOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });

  it("allows listed origins and clients that send none", () => {
    const allowed = ["https://a.example"];
    expect(isOriginAllowed("https://a.example", allowed)).toBe(true);
    expect(isOriginAllowed("https://evil.example", allowed)).toBe(false);
    expect(isOriginAllowed(null, allowed)).toBe(true);
    expect(isOriginAllowed("https://anything.example", "*")).toBe(true);
  });

  it("echoes the origin with credentials, and leaves WebSocket upgrades alone", () => {
    const response = withCors(new Response("ok"), "https://a.example");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://a.example");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Vary")).toContain("Origin");
    expect(withCors(new Response("ok"), null).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers preflights", () => {
    const response = preflight(new Request("http://x/", { method: "OPTIONS", headers: { Origin: "https://a.example" } }));
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST, OPTIONS");
  });
});

describe("server options", () => {
  it("refuse a malformed number instead of guessing", () => {
    expect(() => readServerOptions({ PING_INTERVAL: "soon" } as never)).toThrow(/PING_INTERVAL/);
    expect(readServerOptions({} as never)).toMatchObject({ pingInterval: 25_000, pingTimeout: 20_000, maxHttpBufferSize: 1_000_000 });
  });
});
