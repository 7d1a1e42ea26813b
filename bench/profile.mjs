/**
 * CPU profile of a wrangler subject's Worker (and its Durable Objects) over
 * wrangler dev's DevTools port, for `npm run bench -- --profile=on`.
 * Summarises self time per function; the full .cpuprofile opens in DevTools.
 */
import WebSocket from "ws";

export class Profiler {
  static async attach(inspectorPort, samplingIntervalUs = 200) {
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
    const target = targets.find((t) => t.webSocketDebuggerUrl);
    if (!target) throw new Error("no DevTools target");
    const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const profiler = new Profiler(ws);
    // wrangler's DevTools proxy attaches to the runtime when a client connects: let it settle.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await profiler.call("Profiler.enable");
    await profiler.call("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    return profiler;
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    ws.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.id === undefined) return; // an event
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      // wrangler's proxy may answer with the request echoed (method, params) and no result.
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result ?? {});
    });
  }

  call(method, params = {}) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`${method}: no answer`));
      }, 30_000);
    });
  }

  start() {
    return this.call("Profiler.start");
  }

  /** Stops profiling; returns the profile and a summary whose rows quote their source line. */
  async stop(top = 25) {
    const { profile } = await this.call("Profiler.stop");
    const summary = summarizeProfile(profile, top);
    const sources = new Map();
    try {
      await this.call("Debugger.enable");
      for (const row of summary.rows) {
        if (!row.scriptId || row.scriptId === "0") continue;
        if (!sources.has(row.scriptId)) {
          const { scriptSource } = await this.call("Debugger.getScriptSource", { scriptId: row.scriptId });
          sources.set(row.scriptId, scriptSource.split("\n"));
        }
        row.source = sources.get(row.scriptId)[row.lineNumber]?.trim().slice(0, 100);
      }
      await this.call("Debugger.disable");
    } catch {
      // Sources are a nicety.
    }
    this.ws.close();
    return { profile, summary };
  }
}

/** Self time per function (ms and share of the profile), largest first. */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = byId.get(profile.samples[i])?.callFrame;
    if (!frame) continue;
    const file = frame.url ? frame.url.split("/").slice(-2).join("/") : "";
    const key = `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
    if (!self.has(key)) self.set(key, { ms: 0, scriptId: frame.scriptId, lineNumber: frame.lineNumber });
    self.get(key).ms += dt;
    total += dt;
  }
  const rows = [...self.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  return { totalMs: total, rows: rows.map(([fn, row]) => ({ fn, ...row, share: row.ms / total })) };
}
