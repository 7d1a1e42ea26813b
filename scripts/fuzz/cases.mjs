/**
 * One fuzz case per entry point: it sends a generated input the way a client
 * or caller would, then checks the documented answer. A case returns null when
 * the server answered as documented, else what went wrong.
 */
import WebSocket from "ws";
import { DOCUMENTED_CLOSE_CODES, engineIOCase, LIMITS, pollingRecords, RECORD_SEPARATOR, socketIOCase } from "./packets.mjs";
import { handshakeInput, jwtInput, restInput, sameDecodedToken } from "./inputs.mjs";

const PROBE_ID = 987654321;
const PROBE = `42${PROBE_ID}["__probe"]`;
const PROBE_ACK = `43${PROBE_ID}`;
const ANSWER_MS = 5000;

/** A raw Engine.IO WebSocket: frames queued, pings answered, close remembered. */
class RawSocket {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: String(reason) };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      const frame = isBinary ? data : String(data);
      if (frame === "2") ws.send("3");
      this.frames.push(frame);
      this.wake();
    });
  }

  static open(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const socket = new RawSocket(ws);
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_request, response) => {
        reject(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode }));
      });
      ws.once("error", reject);
    });
  }

  wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The first frame that `match` accepts (others are dropped), or null on close or timeout. */
  async until(match, ms = ANSWER_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.frames.length > 0) {
        const frame = this.frames.shift();
        if (match(frame)) return frame;
      }
      if (this.closeInfo !== null || Date.now() >= deadline) return null;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(frame) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

const isText = (prefix) => (frame) => typeof frame === "string" && frame.startsWith(prefix);

/** A WebSocket connection to the fuzz room that has joined "/" (or that sent `connect` as its CONNECT). */
async function joinedSocket(ctx, connect = "40") {
  const socket = await RawSocket.open(`${ctx.wsUrl}/socket.io/?EIO=4&transport=websocket&room=${ctx.room}`);
  if ((await socket.until(isText("0{"))) === null) throw new Error("no open packet");
  socket.send(connect);
  return socket;
}

/**
 * After a case: the probe is acked, or the connection was closed with a
 * documented code. A case that expects a close must get it for its own input:
 * the probe is only sent if none came within the answer time.
 */
async function probeOutcome(socket, expectClose = false) {
  if (expectClose) await Promise.race([socket.closed, new Promise((r) => setTimeout(r, ANSWER_MS))]);
  if (socket.closeInfo === null) socket.send(PROBE);
  const ack = await socket.until(isText(PROBE_ACK));
  if (ack !== null) return { open: true };
  if (socket.closeInfo !== null) return { closed: socket.closeInfo };
  return { hung: true };
}

function judge(expected, outcome, describe) {
  if (outcome.hung) return `no answer to the probe and no close within ${ANSWER_MS} ms (${describe})`;
  if (outcome.closed && !DOCUMENTED_CLOSE_CODES.has(outcome.closed.code)) return `closed with undocumented code ${outcome.closed.code} "${outcome.closed.reason}" (${describe})`;
  if (expected.expect === "open" && !outcome.open) return `expected to stay open, closed ${JSON.stringify(outcome.closed)} (${describe})`;
  if (expected.expect === "close") {
    if (outcome.open) return `expected a close ${expected.code}, stayed open (${describe})`;
    if (expected.code !== undefined && outcome.closed.code !== expected.code) return `expected close ${expected.code}, got ${outcome.closed.code} "${outcome.closed.reason}" (${describe})`;
  }
  return null;
}

const excerpt = (value) => {
  const text = typeof value === "string" ? value : Buffer.isBuffer(value) || value instanceof Uint8Array ? `<${value.length} bytes>` : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 100)}… (${text.length} chars)` : text;
};

// --- WebSocket frames -----------------------------------------------------------

async function webSocketCase(ctx, random, generate) {
  let c = generate(random);
  if (c.flood) c = { ...c, label: "many frames", parts: c.parts.slice(0, 300), expect: "open" };
  const socket = await joinedSocket(ctx);
  try {
    if ((await socket.until(isText("40{"))) === null) return "the fuzz connection's CONNECT was not answered";
    for (const part of c.parts) socket.send(part);
    return judge(c, await probeOutcome(socket, c.expect === "close"), `${c.label}: ${c.parts.slice(0, 4).map(excerpt).join(" | ")}${c.parts.length > 4 ? ` … (${c.parts.length} frames)` : ""}`);
  } finally {
    socket.close();
  }
}

function binaryCase(random) {
  // Binary attachment sequences (socketIOCase's binary branch), raw binary frames, binary in the middle of a text case.
  for (;;) {
    const c = random.chance(0.7) ? socketIOCase(random) : engineIOCase(random);
    if (c.parts.some((part) => typeof part !== "string")) return c;
  }
}

// --- upgrades ----------------------------------------------------------------------

async function pollingSession(ctx) {
  const response = await fetch(`${ctx.url}/socket.io/?EIO=4&transport=polling&room=${ctx.room}`);
  const sid = JSON.parse((await response.text()).slice(1)).sid;
  const url = `${ctx.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  await fetch(url, { method: "POST", body: "40" });
  const connect = await (await fetch(url)).text();
  if (!connect.startsWith("40{")) throw new Error("polling CONNECT not answered: " + connect);
  return { sid, url };
}

/** Posts the probe and reads GETs until its ack comes; "closed" when the session is gone. */
async function pollingProbe(url) {
  const post = await fetch(url, { method: "POST", body: PROBE });
  if (post.status === 400) return "closed";
  if (post.status !== 200) return `probe POST answered ${post.status}`;
  const deadline = Date.now() + ANSWER_MS;
  while (Date.now() < deadline) {
    const get = await fetch(url, { signal: AbortSignal.timeout(ANSWER_MS) }).catch((error) => ({ status: -1, error }));
    if (get.status === 400) return "closed";
    if (get.status !== 200) return `probe GET answered ${get.status}`;
    const body = await get.text();
    const records = body.split(RECORD_SEPARATOR);
    if (records.some((r) => r.startsWith(PROBE_ACK))) return "open";
    if (records.includes("1")) return "closed";
  }
  return "hung";
}

const UPGRADE_SEQUENCES = [
  [["2probe", "5"], "upgraded"],
  [["2probe", "2probe", "5"], "any"],
  [["5"], "any"],
  [["3probe"], "any"],
  [["2probe"], "any"],
  [["2probe", "42[\"early\"]"], "any"],
  [["2prob", "5"], "any"],
];

async function upgradeCase(ctx, random) {
  const { sid, url } = await pollingSession(ctx);
  const [sequence, expect] = random.chance(0.8) ? random.pick(UPGRADE_SEQUENCES) : [[random.text(random.size(10)), random.pick(["5", "2probe"])], "any"];
  const wsSid = random.chance(0.1) ? sid.slice(0, -1) + (sid.endsWith("A") ? "B" : "A") : sid;
  const describe = `upgrade of ${wsSid === sid ? "its session" : "another sid"} with ${JSON.stringify(sequence)}`;
  let socket;
  try {
    socket = await RawSocket.open(`${ctx.wsUrl}/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(wsSid)}`);
  } catch (error) {
    return error.status === 400 ? null : `upgrade request failed: ${error.message} (${describe})`;
  }
  try {
    const second = random.chance(0.1) ? await RawSocket.open(`${ctx.wsUrl}/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`).catch(() => null) : null;
    for (const frame of sequence) {
      socket.send(frame);
      if (frame === "2probe") await socket.until(isText("3probe"), 1000);
    }
    if (second !== null) {
      const closed = await Promise.race([second.closed, new Promise((r) => setTimeout(() => r(null), 2000))]);
      second.close();
      if (closed !== null && !DOCUMENTED_CLOSE_CODES.has(closed.code)) return `second upgrade closed with ${closed.code} (${describe})`;
    }
    const ws = await probeOutcome(socket);
    if (ws.open) return null;
    if (ws.hung) return `upgrade WebSocket neither answered nor closed (${describe})`;
    if (!DOCUMENTED_CLOSE_CODES.has(ws.closed.code)) return `upgrade WebSocket closed with ${ws.closed.code} "${ws.closed.reason}" (${describe})`;
    // The WebSocket was refused or gave up: the polling session goes on (or was closed, never wedged).
    const polling = await pollingProbe(url);
    if (polling === "open" || (polling === "closed" && expect !== "upgraded")) return null;
    return `after the upgrade attempt the polling session is ${polling} (${describe})`;
  } finally {
    socket.close();
  }
}

// --- polling bodies ------------------------------------------------------------------

async function pollingBodyCase(ctx, random) {
  const { url } = await pollingSession(ctx);
  const cases = Array.from({ length: random.range(1, 3) }, () => (random.chance(0.6) ? socketIOCase(random) : engineIOCase(random)));
  let body = cases.flatMap((c) => pollingRecords(c.parts)).join(RECORD_SEPARATOR);
  let expect = cases.some((c) => c.expect === "close") ? "close" : cases.every((c) => c.expect === "open") ? "open" : "any";
  if (cases.some((c) => c.parts.some((p) => typeof p === "string" && p.includes(RECORD_SEPARATOR)))) expect = "any";
  if (random.chance(0.2)) {
    body = Buffer.from(random.bytes(random.size(400)));
    expect = "any";
  }
  // The session's query string gets extra or repeated parameters at times (the sid and EIO stay valid).
  const postUrl = random.chance(0.2) ? url + random.pick(["&b64=1", "&EIO=3", "&transport=websocket", "&sid=", "&t=" + random.int(1e6), "&j=0"]) : url;
  const describe = `${cases.map((c) => c.label).join(" + ")}: ${excerpt(body)}${postUrl === url ? "" : ` (query ${postUrl.slice(url.length)})`}`;
  let status;
  let text;
  try {
    const post = await fetch(postUrl, { method: "POST", body });
    status = post.status;
    text = await post.text();
  } catch (error) {
    // An oversized body is refused while it is still being sent: the client may see the reset before the 413.
    if (body.length <= LIMITS.maxHttpBufferSize) throw error;
    status = 413;
    text = '{"code":3,"message":"(connection reset while sending)"}';
  }
  if (![200, 400, 413, 429].includes(status)) return `POST answered ${status} ${excerpt(text)} (${describe})`;
  if (status !== 200) {
    const error = safeJson(text);
    if (typeof error?.code !== "number" || typeof error?.message !== "string") return `POST ${status} without an Engine.IO error body: ${excerpt(text)} (${describe})`;
  }
  const outcome = status === 200 ? await pollingProbe(url) : (await fetch(url)).status === 400 ? "closed" : "still open after a refused POST";
  if (outcome !== "open" && outcome !== "closed") return `${outcome} (${describe})`;
  if (expect === "open" && outcome !== "open") return `expected the session to go on, it was closed (${describe})`;
  if (expect === "close" && outcome !== "closed") return `expected the session to be closed, it goes on (${describe})`;
  return null;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// --- handshakes ------------------------------------------------------------------------

async function handshakeCase(ctx, random) {
  const input = handshakeInput(random, ctx.room);
  const describe = `${input.method} ?${excerpt(input.query)} ${JSON.stringify(Object.keys(input.headers))}`;
  if (random.chance(0.25) && input.method === "GET") {
    // Over a WebSocket: opened (then "0{"), refused (400/403), or accepted and closed with a reason.
    let socket;
    try {
      socket = await RawSocket.open(`${ctx.wsUrl}/socket.io/?${input.query.replace(/transport=[^&]*/, "transport=websocket")}`);
    } catch (error) {
      return [400, 403].includes(error.status) ? null : `WebSocket handshake failed: ${error.message} (${describe})`;
    }
    try {
      const open = await socket.until(isText("0{"), 3000);
      if (open !== null) return null;
      if (socket.closeInfo !== null && DOCUMENTED_CLOSE_CODES.has(socket.closeInfo.code)) return null;
      return `WebSocket handshake neither opened nor closed as documented: ${JSON.stringify(socket.closeInfo)} (${describe})`;
    } finally {
      socket.close();
    }
  }
  const response = await fetch(`${ctx.url}/socket.io/?${input.query}`, {
    method: input.method,
    headers: input.headers,
    body: input.method === "POST" || input.method === "PUT" ? random.text(random.size(50)) : undefined,
    signal: AbortSignal.timeout(ANSWER_MS),
  }).catch((error) => ({ status: -1, text: async () => String(error) }));
  const text = await response.text();
  if (response.status === 200) {
    if (input.method === "GET" && !text.startsWith("0{") && !text.startsWith("6") && !text.startsWith("4")) return `200 that is not an open packet: ${excerpt(text)} (${describe})`;
    return null;
  }
  if (response.status === 204 && input.method === "OPTIONS") return null;
  if (![400, 403].includes(response.status)) return `answered ${response.status}: ${excerpt(text)} (${describe})`;
  const error = safeJson(text);
  if (typeof error?.code !== "number" && typeof error?.error?.code !== "string") return `${response.status} without an error body: ${excerpt(text)} (${describe})`;
  return null;
}

// --- REST ------------------------------------------------------------------------------

const REST_STATUSES = new Set([200, 400, 401, 403, 404, 405, 413, 422]);

async function restCase(ctx, random) {
  const input = restInput(random, ctx);
  const describe = `${input.method} ${excerpt(input.path)} ${excerpt(input.body ?? "")}`;
  const response = await fetch(`${ctx.url}${input.path}`, { method: input.method, headers: input.headers, body: input.body, signal: AbortSignal.timeout(ANSWER_MS) });
  const text = await response.text();
  if (!REST_STATUSES.has(response.status)) return `answered ${response.status}: ${excerpt(text)} (${describe})`;
  const json = safeJson(text);
  if (json === null) return `${response.status} with a body that is not JSON: ${excerpt(text)} (${describe})`;
  if (response.status >= 400 && (typeof json.error?.code !== "string" || typeof json.error?.message !== "string")) {
    return `${response.status} without {"error":{"code","message"}}: ${excerpt(text)} (${describe})`;
  }
  return null;
}

// --- JWTs --------------------------------------------------------------------------------

async function jwtCase(ctx, random) {
  const input = jwtInput(random, ctx);
  const socket = await joinedSocket(ctx, "40" + JSON.stringify(input.auth));
  try {
    const answer = await socket.until((f) => isText("40{")(f) || isText("44{")(f));
    const describe = `${input.label}: ${excerpt(JSON.stringify(input.auth))}`;
    if (answer === null) return `CONNECT with a token not answered (${describe})`;
    const accepted = answer.startsWith("40");
    if (accepted === input.valid) return null;
    if (accepted && input.original !== undefined && sameDecodedToken(input.auth.token, input.original)) return null;
    return `${accepted ? "accepted" : "refused"} a token that should be ${input.valid ? "accepted" : "refused"}: ${answer.slice(0, 120)} (${describe})`;
  } finally {
    socket.close();
  }
}

/** The entry points, each with its case runner. */
export const ENTRY_POINTS = {
  "websocket: Engine.IO packets": (ctx, random) => webSocketCase(ctx, random, engineIOCase),
  "websocket: Socket.IO packets": (ctx, random) => webSocketCase(ctx, random, socketIOCase),
  "websocket: binary attachment sequences": (ctx, random) => webSocketCase(ctx, random, binaryCase),
  "upgrade probes": upgradeCase,
  "polling POST bodies": pollingBodyCase,
  "handshake query strings and headers": handshakeCase,
  "REST bodies and headers": restCase,
  "JWTs on CONNECT": jwtCase,
};
