/** CORS_ORIGINS limits which browser origins may connect, WebSocket included. */
import { WebSocket } from "ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./support/worker";

let worker: RunningWorker;
beforeAll(async () => {
  worker = await startWorker({ CORS_ORIGINS: "https://good.example" });
});
afterAll(() => worker?.stop());

const handshake = (origin?: string) =>
  fetch(`${worker.url}/socket.io/?EIO=4&transport=polling&room=cors`, { headers: origin ? { Origin: origin } : {} });

it("lets listed origins and non-browser clients in, with CORS headers for the browser", async () => {
  const good = await handshake("https://good.example");
  expect(good.status).toBe(200);
  expect(good.headers.get("access-control-allow-origin")).toBe("https://good.example");
  expect((await handshake()).status).toBe(200);
});

it("refuses other origins, over polling and WebSocket", async () => {
  const bad = await handshake("https://evil.example");
  expect(bad.status).toBe(403);
  expect(await bad.json()).toEqual({ code: 4, message: "Forbidden" });
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${worker.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&room=cors`, {
      headers: { Origin: "https://evil.example" },
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => resolve(101));
    ws.on("error", () => undefined);
  });
  expect(status).toBe(403);
});
