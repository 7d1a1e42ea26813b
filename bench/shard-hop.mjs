/**
 * The bench's sharded-room phase (`--phases=shard-hop`): what a hop between
 * shards adds, and what a private message costs in a room of many shards.
 * Raw `ws` clients speak Socket.IO to the Worker with TestRoom
 * (test/support/wrangler.test.toml), whose server code sends `io.to(id)` and
 * `io.emit` on request; SHARD_MAX_CONNECTIONS=8.
 *
 * - same shard / other shard: client A asks the server for `io.to(B).emit`,
 *   B on A's shard, then B on another shard; one message at a time, A→B latency.
 * - many shards: 64 clients on 8 shards; a private message to a socket on the
 *   last shard, and an `io.emit` to all 64; latency and the deliveries each
 *   shard received (GET /v1/rooms/{room}/stats, `shards[].itemsReceived`).
 * - unsharded: the same private message in a room that is not sharded.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { quantile } from "./load.mjs";
import { sleep, startServer } from "./servers.mjs";

const PER_SHARD = 8;

class Client {
  constructor(wsUrl, room) {
    this.url = `${wsUrl}/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(room)}`;
    this.handlers = new Map();
  }

  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws.on("error", reject);
      this.ws.on("message", (data) => {
        const frame = data.toString();
        if (frame === "2") return this.ws.send("3");
        if (frame.startsWith("0")) return this.ws.send("40");
        if (frame.startsWith("40")) {
          this.id = JSON.parse(frame.slice(2)).sid;
          return resolve(this);
        }
        if (frame.startsWith("42")) {
          const [event, ...args] = JSON.parse(frame.slice(2));
          this.handlers.get(event)?.(args, performance.now());
        }
      });
    });
  }

  on(event, handler) {
    this.handlers.set(event, handler);
  }

  emit(...packet) {
    this.ws.send("42" + JSON.stringify(packet));
  }

  close() {
    this.ws?.close();
  }
}

async function clients(wsUrl, room, n) {
  const all = [];
  for (let i = 0; i < n; i++) all.push(await new Client(wsUrl, room).open());
  return all;
}

const shardOf = (id) => parseInt(id.slice(id.lastIndexOf(".") + 1), 36);

/** `samples` private messages from `from` to `to`, one at a time: latency figures (ms). */
async function privateLatency(from, to, samples) {
  const times = [];
  for (let seq = 0; seq < samples; seq++) {
    const received = new Promise((resolve) => to.on("p", ([n], at) => n === seq && resolve(at)));
    const sent = performance.now();
    from.emit("io-to", to.id, "p", seq);
    times.push((await received) - sent);
  }
  return summary(times);
}

/** `samples` io.emit from `from`, one at a time: time until every client has it (ms). */
async function broadcastLatency(from, all, samples) {
  const times = [];
  for (let seq = 0; seq < samples; seq++) {
    const arrivals = all.map((c) => new Promise((resolve) => c.on("b", ([n], at) => n === seq && resolve(at))));
    const sent = performance.now();
    from.emit("io-emit", "b", seq);
    times.push(Math.max(...(await Promise.all(arrivals))) - sent);
  }
  return summary(times);
}

function summary(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return { samples: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

async function itemsReceived(server, apiKey, room) {
  const response = await fetch(`${server.url}/v1/rooms/${room}/stats`, { headers: { Authorization: `Bearer ${apiKey}` } });
  const body = await response.json();
  return Object.fromEntries(body.shards.map((s) => [s.shard, s.itemsReceived]));
}

const delta = (before, after) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));

export async function measureShardHop({ samples = 200 } = {}) {
  const figure = { samples, perShard: PER_SHARD };
  const apiKey = randomBytes(16).toString("hex");
  let server = null;
  const open = [];
  try {
    server = await startServer("shard-hop", { vars: { API_KEY: apiKey, SHARDED_ROOMS: "bench-*", SHARD_MAX_CONNECTIONS: String(PER_SHARD) } });
    const track = (list) => (open.push(...list), list);

    const plain = track(await clients(server.wsUrl, `plain-${Date.now()}`, 2));
    await privateLatency(plain[0], plain[1], 20); // warm-up
    figure.unsharded = await privateLatency(plain[0], plain[1], samples);

    const two = track(await clients(server.wsUrl, `bench-hop-${Date.now()}`, PER_SHARD + 1));
    const [a, sameShard, otherShard] = [two[0], two[1], two[PER_SHARD]];
    if (shardOf(sameShard.id) !== shardOf(a.id) || shardOf(otherShard.id) === shardOf(a.id)) throw new Error("unexpected placement");
    await privateLatency(a, otherShard, 20);
    figure.sameShard = await privateLatency(a, sameShard, samples);
    figure.otherShard = await privateLatency(a, otherShard, samples);

    const room = `bench-many-${Date.now()}`;
    const many = track(await clients(server.wsUrl, room, 8 * PER_SHARD));
    figure.shards = new Set(many.map((c) => shardOf(c.id))).size;
    const last = many[many.length - 1];
    await privateLatency(many[0], last, 20);
    let before = await itemsReceived(server, apiKey, room);
    figure.privateInManyShards = await privateLatency(many[0], last, samples);
    figure.privateDeliveriesPerShard = delta(before, await itemsReceived(server, apiKey, room));
    await broadcastLatency(many[0], many, 10);
    before = await itemsReceived(server, apiKey, room);
    figure.broadcastInManyShards = await broadcastLatency(many[0], many, Math.max(20, Math.round(samples / 4)));
    figure.broadcastDeliveriesPerShard = delta(before, await itemsReceived(server, apiKey, room));
    figure.ok = true;
  } catch (error) {
    figure.ok = false;
    figure.error = String(error?.message ?? error);
  } finally {
    for (const c of open) c.close();
    await sleep(200);
    await server?.stop();
  }
  return figure;
}
