import { io } from "socket.io-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./support/worker";

let worker: RunningWorker;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(() => worker?.stop());

it("relays", async () => {
  console.log(worker.url);
  const a = io(worker.url, { query: { room: "smoke" }, transports: ["websocket"] });
  const b = io(worker.url, { query: { room: "smoke" } });
  await Promise.all([a, b].map((s) => new Promise((r) => s.on("connect", r))));
  const got = new Promise((r) => b.on("hello", (...args) => r(args)));
  const ack = await a.timeout(2000).emitWithAck("hello", 1, "two");
  expect(await got).toEqual([1, "two"]);
  expect(ack).toEqual({ delivered: 1 });
  await worker.evictRoom("smoke");
  const got2 = new Promise((r) => b.on("hello", (...args) => r(args)));
  const ack2 = await a.timeout(2000).emitWithAck("hello", 3);
  expect(await got2).toEqual([3]);
  a.close(); b.close();
});
