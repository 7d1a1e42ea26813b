import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BATCH_ITEMS, MAX_BODY_BYTES } from "../../src/rest/limits";
import { connectSocketIO, worker, type TestSocket } from "./support/clients";

const AUTH = { Authorization: "Bearer test-api-key" };

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`http://test/v1${path}`, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } });
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  return body.error.message;
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** No frame reaches the socket (pings and noops aside). */
async function expectNothing(socket: TestSocket): Promise<void> {
  await expect(socket.next({ timeout: 300 })).rejects.toThrow(/no frame/);
}

describe("REST API: refused requests", () => {
  it("refuses malformed JSON and bodies that are not objects with 400", async () => {
    await expectError(await post("/rooms/req-1/emit", "{not json"), 400, "malformed_json");
    await expectError(await post("/rooms/req-1/emit", ""), 400, "malformed_json");
    const notUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
    await expectError(await api("/rooms/req-1/emit", { method: "POST", body: notUtf8 }), 400, "malformed_json");
    for (const body of ["[]", '"event"', "null", "42"]) {
      await expectError(await post("/rooms/req-1/emit", body), 400, "invalid_request");
    }
  });

  it("refuses missing and reserved event names with 400", async () => {
    expect(await expectError(await post("/rooms/req-2/emit", { args: [1] }), 400, "invalid_request")).toMatch(/^event: required/);
    await expectError(await post("/rooms/req-2/emit", { event: "" }), 400, "invalid_request");
    for (const event of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      const message = await expectError(await post("/rooms/req-2/emit", { event }), 400, "reserved_event");
      expect(message).toContain(event);
    }
  });

  it("refuses fields of the wrong type, and unknown fields, naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ event: 42 }, /^event:/],
      [{ event: "e", args: "x" }, /^args: must be an array/],
      [{ event: "e", args: {} }, /^args: must be an array/],
      [{ event: "e", rooms: "vip" }, /^rooms: must be an array/],
      [{ event: "e", rooms: ["ok", 3] }, /^rooms\[1\]:/],
      [{ event: "e", except: [""] }, /^except\[0\]:/],
      [{ event: "e", namespace: 1 }, /^namespace:/],
      [{ event: "e", volatile: "yes" }, /^volatile:/],
      [{ event: "e", room: "vip" }, /^room: unknown field/],
      [{ event: "e", args: [{ $binary: "not base64!" }] }, /^args\[0\]: "\$binary" is not base64/],
      [{ event: "e", args: [{ $binary: "AAAA", name: "x" }] }, /^args\[0\]: a binary value/],
      [{ event: "e", args: [nested(40)] }, /nested too deeply/],
    ];
    for (const [body, message] of cases) {
      expect(await expectError(await post("/rooms/req-3/emit", body), 400, "invalid_request"), JSON.stringify(body)).toMatch(message);
    }
  });

  it("refuses invalid room names and Idempotency-Keys with 400", async () => {
    await expectError(await post("/rooms/has%20space/emit", { event: "e" }), 400, "invalid_room");
    await expectError(await api("/rooms/" + "x".repeat(129)), 400, "invalid_room");
    await expectError(await post("/emit", { items: [{ room: "bad room", event: "e" }] }), 400, "invalid_room");
    await expectError(await post("/rooms/req-4/emit", { event: "e" }, { "Idempotency-Key": "x".repeat(256) }), 400, "invalid_idempotency_key");
    await expectError(await post("/rooms/req-4/emit", { event: "e" }, { "Idempotency-Key": "two words" }), 400, "invalid_idempotency_key");
  });

  it("refuses bodies over the limit with 413, whether or not Content-Length says so", async () => {
    const big = JSON.stringify({ event: "e", args: ["x".repeat(MAX_BODY_BYTES)] });
    await expectError(await post("/rooms/req-5/emit", big), 413, "payload_too_large");
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES + chunk.length) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    await expectError(await api("/rooms/req-5/emit", { method: "POST", body: stream }), 413, "payload_too_large");
    // Just under the limit is fine.
    const fits = JSON.stringify({ event: "e", args: ["x".repeat(MAX_BODY_BYTES - 100)] });
    expect((await post("/rooms/req-5/emit", fits)).status).toBe(200);
  });

  it("answers 404 for unknown routes and 405 for a wrong method", async () => {
    for (const path of ["", "/", "/nope", "/rooms", "/rooms/r/nope", "/rooms/r/emit/x"]) {
      await expectError(await api(path), 404, "not_found");
    }
    const wrong: [string, string, string][] = [
      ["GET", "/rooms/r/emit", "POST"],
      ["PUT", "/rooms/r", "GET"],
      ["DELETE", "/rooms/r/sockets", "GET"],
      ["GET", "/emit", "POST"],
      ["GET", "/rooms/r/disconnect", "POST"],
      ["POST", "/openapi.json", "GET"],
    ];
    for (const [method, path, allowed] of wrong) {
      const response = await api(path, { method });
      await expectError(response, 405, "method_not_allowed");
      expect(response.headers.get("Allow"), `${method} ${path}`).toBe(allowed);
    }
  });

  it("refuses a batch over the limit, empty, or with one bad item", async () => {
    const item = { room: "req-7", event: "e" };
    await expectError(await post("/emit", { items: Array(MAX_BATCH_ITEMS + 1).fill(item) }), 400, "invalid_request");
    await expectError(await post("/emit", { items: [] }), 400, "invalid_request");
    await expectError(await post("/emit", [item]), 400, "invalid_request");
    const message = await expectError(
      await post("/emit", { items: [item, { ...item, event: "disconnect" }] }),
      400,
      "reserved_event",
    );
    expect(message).toMatch(/^items\[1\]\.event/);
    expect(await expectError(await post("/emit", { items: [item, { event: "e" }] }), 400, "invalid_request")).toMatch(
      /^items\[1\]\.room: required/,
    );
  });

  it("delivers nothing on a refused request", async () => {
    const { socket } = await connectSocketIO(worker, "&room=req-8");
    const refused: [string, unknown][] = [
      ["/rooms/req-8/emit", { event: "connect" }],
      ["/rooms/req-8/emit", { event: "ok", args: [{ $binary: "%%%" }] }],
      ["/rooms/req-8/emit", { event: "ok", rooms: "everyone" }],
      ["/emit", { items: [{ room: "req-8", event: "first" }, { room: "req-8", event: "second", args: "bad" }] }],
      ["/emit", { items: [{ room: "req-8", event: "first" }, { room: "req-8", event: "newListener" }] }],
      ["/rooms/req-8/disconnect", { sockets: "all" }],
      ["/rooms/req-8/join", { join: [] }],
    ];
    for (const [path, body] of refused) expect((await post(path, body)).status, JSON.stringify(body)).toBe(400);
    expect((await post("/rooms/req-8/emit", { event: "too-big", args: ["x".repeat(MAX_BODY_BYTES)] })).status).toBe(413);
    expect((await post("/rooms/req-8/emit", { event: "unauthorized" }, { Authorization: "Bearer wrong" })).status).toBe(401);
    await expectNothing(socket);
    // The socket is still there and reachable.
    expect(await (await post("/rooms/req-8/emit", { event: "after" })).json()).toEqual({ sockets: 1, replayed: false });
    expect(await socket.next()).toBe('42["after"]');
  });
});
