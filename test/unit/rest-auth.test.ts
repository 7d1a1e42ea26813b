import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config";
import { restApi } from "../../src/rest/routes";

// Test keys: vitest.config.ts, unit project bindings.
const KEY = "test-api-key";
const NEXT_KEY = "test-api-key-next";

const presence = (headers: Record<string, string> = {}) => SELF.fetch("http://test/v1/rooms/auth-1", { headers });

describe("REST API authentication", () => {
  it("accepts API_KEY and API_KEY_NEXT as bearer tokens", async () => {
    for (const key of [KEY, NEXT_KEY]) {
      const response = await presence({ Authorization: `Bearer ${key}` });
      expect(response.status, key).toBe(200);
      expect(await response.json()).toEqual({ room: "auth-1", connections: 0, sockets: 0, namespaces: {} });
    }
    expect((await presence({ Authorization: `bearer ${KEY}` })).status).toBe(200);
  });

  it("refuses a missing or malformed Authorization header with 401", async () => {
    const malformed: Record<string, string>[] = [{}, { Authorization: KEY }, { Authorization: `Basic ${btoa("u:" + KEY)}` }, { Authorization: "Bearer" }];
    for (const headers of malformed) {
      const response = await presence(headers);
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
      expect(await response.json()).toMatchObject({ error: { code: "missing_api_key" } });
    }
  });

  it("refuses a wrong key with 401, including prefixes and extensions of a valid key", async () => {
    for (const key of ["nope", KEY.slice(0, -1), KEY + "x", NEXT_KEY.toUpperCase()]) {
      const response = await presence({ Authorization: `Bearer ${key}` });
      expect(response.status, key).toBe(401);
      expect(await response.json()).toEqual({ error: { code: "invalid_api_key", message: "The API key is not valid" } });
    }
  });

  it("fails closed when no key is configured, saying how to set one", async () => {
    for (const keys of [{ API_KEY: undefined, API_KEY_NEXT: undefined }, { API_KEY: "  ", API_KEY_NEXT: "" }]) {
      const unconfigured = { ...(env as unknown as Env), ...keys };
      const response = await restApi.request(
        "/rooms/auth-2/emit",
        { method: "POST", headers: { Authorization: "Bearer anything" }, body: '{"event":"x"}' },
        unconfigured,
      );
      expect(response.status).toBe(403);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("api_key_not_configured");
      expect(error.message).toContain("wrangler secret put API_KEY");
      expect(error.message).toContain(".dev.vars");
    }
  });

  it("accepts API_KEY_NEXT alone (mid-rotation)", async () => {
    const onlyNext = { ...(env as unknown as Env), API_KEY: undefined };
    const ok = await restApi.request("/rooms/auth-3", { headers: { Authorization: `Bearer ${NEXT_KEY}` } }, onlyNext);
    expect(ok.status).toBe(200);
    const old = await restApi.request("/rooms/auth-3", { headers: { Authorization: `Bearer ${KEY}` } }, onlyNext);
    expect(old.status).toBe(401);
  });

  it("leaves the Socket.IO endpoint and the OpenAPI description open", async () => {
    const handshake = await SELF.fetch("http://test/socket.io/?EIO=4&transport=polling&room=auth-4");
    expect(handshake.status).toBe(200);
    expect(await handshake.text()).toMatch(/^0\{"sid"/);
    const openapi = await SELF.fetch("http://test/v1/openapi.json");
    expect(openapi.status).toBe(200);
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown>; servers: { url: string }[] };
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers[0].url).toBe("http://test/v1");
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/rooms/{room}/emit", "/emit", "/rooms/{room}", "/rooms/{room}/sockets", "/rooms/{room}/disconnect"]),
    );
    // Every $ref points at something in the document.
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") {
        for (const [key, item] of Object.entries(value)) key === "$ref" ? refs.push(item as string) : walk(item);
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const target = ref.slice(2).split("/").reduce<any>((node, part) => node?.[part], document);
      expect(target, ref).toBeTypeOf("object");
    }
  });

  it("answers CORS preflights without a key, for the headers the API needs", async () => {
    const response = await SELF.fetch("http://test/v1/rooms/auth-5/emit", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("idempotency-key");
    const actual = await SELF.fetch("http://test/v1/rooms/auth-5", {
      headers: { Origin: "https://app.example", Authorization: `Bearer ${KEY}` },
    });
    expect(actual.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  });
});
