/**
 * The bench's polling phase (`--phases=polling`): Engine.IO v4 HTTP long-polling
 * clients (fetch, no socket.io-client) in one room, one sender and the others
 * receivers. The sender emits `42<id>["m",<seq>,"<pad>"]` at a fixed rate; the
 * figures are the one-way latency (sent → a receiver's GET returns it) and the
 * ack round trip (sent → the relay's `{ delivered }` ack reaches the sender), p50/p99.
 * Like a real client, each one has at most one GET and one POST in flight;
 * packets waiting for the POST go out together in the next one.
 */
import { performance } from "node:perf_hooks";
import { quantile } from "./load.mjs";
import { sleep, startServer } from "./servers.mjs";

const RECORD = "\x1e";

class PollingClient {
  constructor(baseUrl, room, onPacket) {
    this.base = `${baseUrl}/socket.io/?EIO=4&transport=polling&room=${encodeURIComponent(room)}`;
    this.onPacket = onPacket;
    this.url = null;
    this.outbox = [];
    this.posting = false;
    this.stopped = false;
    this.errors = 0;
  }

  /** Handshake, CONNECT of "/", then the GET loop runs until stop(). */
  async open() {
    const response = await fetch(this.base);
    const open = await response.text();
    if (!open.startsWith("0")) throw new Error(`polling handshake: ${response.status} ${open.slice(0, 80)}`);
    this.url = `${this.base}&sid=${encodeURIComponent(JSON.parse(open.slice(1)).sid)}`;
    const connected = new Promise((resolve) => (this.onConnect = resolve));
    this.send("40");
    this.loop = this.pollLoop();
    await connected;
  }

  async pollLoop() {
    while (!this.stopped) {
      let body;
      try {
        const response = await fetch(this.url);
        body = await response.text();
        if (response.status !== 200) throw new Error(`GET ${response.status} ${body.slice(0, 80)}`);
      } catch (error) {
        if (!this.stopped) this.errors++;
        return;
      }
      const at = performance.now();
      for (const packet of body.split(RECORD)) {
        if (packet === "2") this.send("3");
        else if (packet.startsWith("40")) this.onConnect?.();
        else if (packet === "1") return;
        else this.onPacket(packet, at);
      }
    }
  }

  /** Queues a packet; one POST at a time carries everything queued. */
  send(packet) {
    this.outbox.push(packet);
    if (!this.posting) void this.flush();
  }

  async flush() {
    this.posting = true;
    while (this.outbox.length > 0 && !this.stopped) {
      const body = this.outbox.join(RECORD);
      this.outbox = [];
      try {
        const response = await fetch(this.url, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8" } });
        await response.text();
        if (response.status !== 200) this.errors++;
      } catch {
        if (!this.stopped) this.errors++;
      }
    }
    this.posting = false;
  }

  stop() {
    this.stopped = true;
  }
}

/** A room of `clients` polling clients (one sender) on one subject; `rate` messages/s for `seconds`. */
export async function measurePolling(subject, { clients, rate, seconds, payloadBytes }) {
  const figure = { subject, clients, rate, seconds };
  let server = null;
  const all = [];
  try {
    server = await startServer(subject);
    const room = `polling-${Date.now()}`;
    const messages = Math.max(1, Math.round(rate * seconds));
    const sendTimes = new Float64Array(messages);
    const oneWay = [];
    const ackRtt = [];
    const received = new Uint32Array(messages);
    let unexpected = 0;
    const receivers = clients - 1;
    for (let i = 0; i < receivers; i++) {
      const client = new PollingClient(server.url, room, (packet, at) => {
        const match = /^42\["m",(\d+),/.exec(packet);
        if (!match) return void unexpected++;
        const seq = Number(match[1]);
        received[seq]++;
        oneWay.push(at - sendTimes[seq]);
      });
      all.push(client);
      await client.open();
    }
    const sender = new PollingClient(server.url, room, (packet, at) => {
      const match = /^43(\d+)/.exec(packet);
      if (!match) return void unexpected++;
      ackRtt.push(at - sendTimes[Number(match[1])]);
    });
    all.push(sender);
    await sender.open();
    await sleep(500);
    const pad = "x".repeat(payloadBytes);
    const started = performance.now();
    for (let seq = 0; seq < messages; seq++) {
      const due = started + (seq * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sendTimes[seq] = due;
      // The ack id is the sequence number: the ack's round trip is read from it.
      sender.send(`42${seq}["m",${seq},"${pad}"]`);
    }
    const deadline = performance.now() + 10_000;
    while ((oneWay.length < messages * receivers || ackRtt.length < messages) && performance.now() < deadline) await sleep(50);
    oneWay.sort((a, b) => a - b);
    ackRtt.sort((a, b) => a - b);
    figure.messages = messages;
    figure.oneWay = { p50: quantile(oneWay, 0.5), p99: quantile(oneWay, 0.99), samples: oneWay.length };
    figure.ack = { p50: quantile(ackRtt, 0.5), p99: quantile(ackRtt, 0.99), samples: ackRtt.length };
    const lost = received.reduce((n, count) => n + Math.max(0, receivers - count), 0);
    const duplicated = received.reduce((n, count) => n + Math.max(0, count - receivers), 0);
    const errors = all.reduce((n, c) => n + c.errors, 0);
    figure.verify = { ok: lost === 0 && duplicated === 0 && unexpected === 0 && errors === 0 && ackRtt.length === messages, lost, duplicated, unexpected, errors };
    figure.ok = figure.verify.ok;
  } catch (error) {
    figure.error = String(error?.message ?? error).split("\n")[0];
    figure.ok = false;
  } finally {
    for (const client of all) client.stop();
    if (server) await server.stop();
  }
  return figure;
}
