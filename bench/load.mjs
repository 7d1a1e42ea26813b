/**
 * The benchmark's load generator: Engine.IO v4 / Socket.IO v5 clients over raw
 * `ws` WebSockets (no socket.io-client), all in one process. One room has N
 * receivers and one sender; the sender emits `42["m",<seq>,"<pad>"]` and every
 * receiver checks that sequence numbers arrive exactly once and in order.
 *
 * Per-frame work is kept tiny: frames are inspected as bytes, and only the
 * sequence number of an event is parsed (no JSON, no string conversion).
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const CH_0 = 0x30; // "0" open (and the "0" of "40")
const CH_2 = 0x32; // "2" ping (and the "2" of "42")
const CH_4 = 0x34; // "4" message
const CH_6 = 0x36; // "6" noop: the runtime's answer to our pongs
const CH_COMMA = 0x2c;
/** `42["m",` : the sequence number starts at this byte. */
const SEQ_OFFSET = 7;

export class LoadError extends Error {}

/** A room under load: N receivers, one sender, their bookkeeping. */
export class LoadRoom {
  /**
   * @param {string} baseUrl  ws://127.0.0.1:PORT
   * @param {string} room
   * @param {{ payloadBytes?: number, maxMessages?: number }} options
   *   maxMessages bounds every sequence number the room will ever use.
   */
  constructor(baseUrl, room, { payloadBytes = 32, maxMessages = 200_000 } = {}) {
    this.url = `${baseUrl}/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(room)}`;
    this.pad = "x".repeat(payloadBytes);
    this.maxMessages = maxMessages;
    /** @type {Client[]} */
    this.receivers = [];
    /** @type {Client | null} */
    this.sender = null;
    /** Every client opened, connected or not (for close). */
    this.clients = [];
    this.n = 0;
    /** Messages sent so far (the next sequence number). */
    this.sent = 0;
    /** Messages delivered to all N receivers. */
    this.completed = 0;
    /** Receipts per sequence number, summed over receivers. */
    this.counts = new Uint32Array(maxMessages);
    /** Per message: when it was (meant to be) sent, ms. */
    this.sendTimes = new Float64Array(maxMessages);
    /** Latency samples of the current measured phase (null outside one). */
    this.latencies = null;
    this.latencyCount = 0;
    /** Called when a message has reached every receiver. */
    this.onComplete = null;
    this.unexpected = 0;
    this.closedEarly = 0;
    this.pingsAnswered = 0;
    /** The first Engine.IO open packet's JSON (sid, pingInterval, ...). */
    this.handshake = null;
    /** Called with the receipt time of every ping a connected client gets (the idle phase's rounds). */
    this.onPing = null;
  }

  /**
   * Connects N receivers and the sender, `concurrency` handshakes at a time.
   * Resolves with the time it took (ms) once all N+1 have their Socket.IO
   * CONNECT answered.
   */
  async connect(n, { concurrency = 64, timeoutMs = 120_000 } = {}) {
    this.n = n;
    const started = performance.now();
    const deadline = started + timeoutMs;
    const total = n + 1;
    let next = 0;
    let failed = false;
    const all = new Array(total);
    const worker = async () => {
      while (next < total && !failed) {
        const i = next++;
        if (performance.now() > deadline) throw new LoadError(`connect: timed out after ${i} of ${total} clients`);
        all[i] = await this.open(i === n, deadline);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    } catch (error) {
      failed = true; // the other workers stop opening clients
      throw error;
    }
    this.receivers = all.slice(0, n);
    this.sender = all[n];
    return performance.now() - started;
  }

  /** Opens one client; resolves when its namespace "/" is connected. */
  open(isSender, deadline) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, skipUTF8Validation: true });
      const client = new Client(ws);
      this.clients.push(client);
      const timer = setTimeout(() => fail(new LoadError("connect: handshake timed out")), Math.max(1, deadline - performance.now()));
      const fail = (error) => {
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      ws.on("error", (error) => {
        if (!client.connected) fail(error);
      });
      ws.on("close", () => {
        if (!client.connected) fail(new LoadError("connect: closed during handshake"));
        else if (!client.closing) this.closedEarly++;
      });
      ws.on("message", (data) => {
        if (client.connected) return this.frame(client, data);
        // Handshake: "0{...}" (Engine.IO open) → send "40"; "40{...}" → connected.
        if (data[0] === CH_0) {
          // Engine.IO open packet: kept once (the hibernation figure reads its pingInterval).
          this.handshake ??= JSON.parse(String(data).slice(1));
          ws.send("40");
        }
        else if (data[0] === CH_4 && data[1] === CH_0) {
          client.connected = true;
          clearTimeout(timer);
          resolve(client);
        } else if (data[0] === CH_2 && data.length === 1) ws.send("3");
        else fail(new LoadError(`connect: unexpected frame ${String(data).slice(0, 80)}`));
      });
      client.isSender = isSender;
    });
  }

  /** Every frame of a connected client. The hot path of the load generator. */
  frame(client, data) {
    const c0 = data[0];
    if (c0 === CH_4 && data[1] === CH_2 && !client.isSender) {
      // 42["m",<seq>,...]
      let seq = 0;
      let i = SEQ_OFFSET;
      for (let b = data[i]; b !== CH_COMMA && i < data.length; b = data[++i]) seq = seq * 10 + (b - CH_0);
      this.receive(client, seq);
      return;
    }
    if (c0 === CH_2 && data.length === 1) {
      client.ws.send("3");
      this.pingsAnswered++;
      client.pings++;
      if (this.onPing !== null) this.onPing(performance.now());
      return;
    }
    if (c0 === CH_6) return;
    this.unexpected++;
  }

  receive(client, seq) {
    if (seq === client.next) client.next = seq + 1;
    else {
      client.outOfOrder++;
      if (seq > client.next) client.next = seq + 1;
    }
    if (seq >= this.maxMessages) {
      this.unexpected++;
      return;
    }
    if (this.latencies !== null) {
      const at = performance.now() - this.sendTimes[seq];
      if (this.latencyCount < this.latencies.length) this.latencies[this.latencyCount++] = at;
    }
    if (++this.counts[seq] === this.n) {
      this.completed++;
      if (this.onComplete !== null) this.onComplete();
    }
  }

  send(at = performance.now()) {
    const seq = this.sent++;
    this.sendTimes[seq] = at;
    this.sender.ws.send(`42["m",${seq},"${this.pad}"]`);
  }

  /**
   * Closed loop: one sender, at most `window` messages not yet delivered to
   * all N receivers. Stops at maxMessages or maxMs, then waits (up to drainMs)
   * for what is in flight.
   */
  async throughput({ window = 16, maxMessages = 10_000, maxMs = 5_000, drainMs = 30_000 } = {}) {
    const limit = Math.min(this.sent + maxMessages, this.maxMessages);
    const first = this.sent;
    const completedBefore = this.completed;
    const started = performance.now();
    const stopAt = started + maxMs;
    let lastCompletion = started;
    let finish;
    const done = new Promise((resolve) => (finish = resolve));
    const pump = () => {
      const now = performance.now();
      while (this.sent - this.completed < window && this.sent < limit && now < stopAt) this.send(now);
      if (this.sent === this.completed) finish();
    };
    this.onComplete = () => {
      lastCompletion = performance.now();
      pump();
    };
    pump();
    // Ends when everything sent is delivered (pump stops sending at the bounds) or the bounds plus drain time pass.
    const guard = setTimeout(finish, maxMs + drainMs);
    const tick = setInterval(pump, 50); // sending resumes if the loop was only waiting for the clock
    await done;
    clearTimeout(guard);
    clearInterval(tick);
    this.onComplete = null;
    const messages = this.completed - completedBefore;
    const ms = lastCompletion - started;
    return {
      messages,
      sent: this.sent - first,
      deliveries: messages * this.n,
      ms,
      deliveriesPerSec: ms > 0 ? (messages * this.n * 1000) / ms : 0,
    };
  }

  /**
   * Open loop: `messages` messages at a fixed rate (messages/s). Latency of a
   * delivery = receipt time − the time the message was due to be sent (so a
   * late send counts too).
   */
  async latency({ rate, messages, drainMs = 30_000, maxSamples = 4_000_000 }) {
    const count = Math.max(1, Math.min(messages, this.maxMessages - this.sent));
    this.latencies = new Float64Array(Math.min(maxSamples, count * this.n));
    this.latencyCount = 0;
    const base = this.sent;
    const completedBefore = this.completed;
    const interval = 1000 / rate;
    const started = performance.now();
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (this.sent - base < count) {
          const due = started + (this.sent - base) * interval;
          if (due > now) break;
          this.send(due);
        }
        if (this.sent - base < count) setTimeout(tick, Math.max(0, started + (this.sent - base) * interval - performance.now()));
        else resolve();
      };
      tick();
    });
    await this.waitCompleted(completedBefore + count, drainMs);
    const samples = this.latencies.subarray(0, this.latencyCount).sort();
    this.latencies = null;
    return {
      rate,
      messages: count,
      samples: samples.length,
      p50: quantile(samples, 0.5),
      p99: quantile(samples, 0.99),
      max: samples.length ? samples[samples.length - 1] : NaN,
    };
  }

  /** Waits until `target` messages are complete, or timeoutMs. */
  async waitCompleted(target, timeoutMs) {
    if (this.completed >= target) return true;
    return new Promise((resolve) => {
      const guard = setTimeout(() => {
        this.onComplete = null;
        resolve(false);
      }, timeoutMs);
      this.onComplete = () => {
        if (this.completed < target) return;
        clearTimeout(guard);
        this.onComplete = null;
        resolve(true);
      };
    });
  }

  /**
   * Checks every receiver got every message sent, once, in order.
   * lost/duplicated are counted per (message, receiver); reordered per receiver.
   */
  verify() {
    let lost = 0;
    let duplicated = 0;
    for (let seq = 0; seq < this.sent; seq++) {
      const c = this.counts[seq];
      if (c < this.n) lost += this.n - c;
      else if (c > this.n) duplicated += c - this.n;
    }
    let reordered = 0;
    let clientsWithGaps = 0;
    for (const client of this.receivers) {
      reordered += client.outOfOrder;
      if (client.next !== this.sent) clientsWithGaps++;
    }
    const ok = lost === 0 && duplicated === 0 && reordered === 0 && this.unexpected === 0 && this.closedEarly === 0;
    return { ok, messages: this.sent, lost, duplicated, reordered, clientsWithGaps, unexpected: this.unexpected, closedEarly: this.closedEarly };
  }

  /** Average pings each receiver answered. */
  pingsPerReceiver() {
    let total = 0;
    for (const client of this.receivers) total += client.pings;
    return this.receivers.length ? total / this.receivers.length : 0;
  }

  /** Closes every client (politely, then forcibly after timeoutMs). */
  async close(timeoutMs = 5_000) {
    await Promise.all(
      this.clients.map(
        (client) =>
          new Promise((resolve) => {
            client.closing = true;
            if (client.ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              client.ws.terminate();
              resolve();
            }, timeoutMs);
            client.ws.once("close", () => {
              clearTimeout(timer);
              resolve();
            });
            client.ws.close(1000);
          }),
      ),
    );
  }
}

class Client {
  constructor(ws) {
    this.ws = ws;
    this.connected = false;
    this.closing = false;
    this.isSender = false;
    /** The next sequence number this receiver expects. */
    this.next = 0;
    this.outOfOrder = 0;
    this.pings = 0;
  }
}

/** Quantile of sorted samples (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
