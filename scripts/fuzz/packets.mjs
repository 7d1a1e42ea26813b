/**
 * Structure-aware generators: Engine.IO and Socket.IO packets that are valid,
 * nearly valid (wrong types, sizes, counts, ids, nesting) or byte-mutated,
 * each with the answer the server documents for it:
 *   "open"  the connection stays and keeps answering,
 *   "close" the connection is closed with `code`,
 *   "any"   either, as long as a close uses a documented code.
 */
import { mutateText } from "./random.mjs";

/** Limits the server documents (src/socket.io/packet-limits.ts, protocol.ts, config.ts). */
export const LIMITS = { depth: 32, args: 1000, attachments: 10, maxHttpBufferSize: 1_000_000 };

/** WebSocket close codes the server documents: client close, parse error, policy (rate, unknown sid), too big. */
export const DOCUMENTED_CLOSE_CODES = new Set([1000, 1002, 1008, 1009]);

/** A random JSON value, at most `depth` levels deep. */
export function jsonValue(random, depth = 3) {
  const kind = random.int(depth > 0 ? 9 : 6);
  switch (kind) {
    case 0:
      return random.int(1000) - 500;
    case 1:
      return random.pick([0, -0.5, 1e308, -1e-7, 2 ** 53, Number.MAX_SAFE_INTEGER]);
    case 2:
      return random.text(random.size(40));
    case 3:
      return random.chance(0.5);
    case 4:
      return null;
    case 5:
      return random.pick(["", "_placeholder", "$binary", "__proto__", "constructor"]);
    case 6:
    case 7:
      return Array.from({ length: random.size(6) }, () => jsonValue(random, depth - 1));
    default: {
      const object = {};
      for (let i = random.size(5); i > 0; i--) object[random.pick(["a", "b", "_placeholder", "num", "__proto__", random.text(3)])] = jsonValue(random, depth - 1);
      return object;
    }
  }
}

const nested = (depth) => "[".repeat(depth) + "]".repeat(depth);

/** The namespace part of a packet: mostly the main one ("" prefix), which the fuzz connection has joined. */
function namespace(random) {
  return random.chance(0.8) ? "" : random.pick(["/", "/other,", "/fuzz,", "/" + random.text(random.size(20)) + ","]);
}

/**
 * One Socket.IO-level case as Engine.IO message parts (text "4…" then binary
 * attachments), for a connection that has joined "/".
 */
export function socketIOCase(random) {
  const event = () => random.pick(["chat", "x", "fuzz", "e" + random.int(100)]);
  const id = () => (random.chance(0.5) ? String(random.int(1000)) : "");
  const args = () => Array.from({ length: random.size(5) }, () => jsonValue(random));
  const body = (data) => JSON.stringify(data);
  switch (random.int(16)) {
    case 0:
      return { label: "event", parts: [`42${id()}${body([event(), ...args()])}`], expect: "open" };
    case 1: {
      const depth = random.range(1, LIMITS.depth - 1);
      return { label: "nesting within the limit", parts: [`42${id()}["deep",${nested(depth)}]`], expect: "open" };
    }
    case 2: {
      const depth = random.chance(0.3) ? random.range(100_000, 300_000) : random.range(LIMITS.depth, 2000);
      return { label: `nesting ${depth}`, parts: [`42${id()}["deep",${nested(depth)}]`], expect: "close", code: 1002 };
    }
    case 3: {
      const n = random.chance(0.5) ? LIMITS.args : random.range(LIMITS.args + 1, 200_000);
      return {
        label: `${n} arguments`,
        parts: [`42${id()}["many"${",0".repeat(n)}]`],
        ...(n > LIMITS.args ? { expect: "close", code: 1002 } : { expect: "open" }),
      };
    }
    case 4: {
      const name = random.pick([1, null, {}, [], true, 1.5]);
      return { label: "event name not a string", parts: [`42${id()}${body([name, ...args()])}`], expect: "close", code: 1002 };
    }
    case 5: {
      const badId = random.pick(["-1", "99999999999999999999", "1.5", "1e3", "0x10"]);
      return { label: "bad ack id", parts: [`42${badId}["e"]`], expect: "any" };
    }
    case 6:
      return { label: "ack for an unknown id", parts: [`43${random.int(100_000)}${body(args())}`], expect: "open" };
    case 7:
      return { label: "client-only packet type", parts: [`4${random.pick(["4", "7", "8", "9"])}${namespace(random)}${body(jsonValue(random))}`], expect: "close", code: 1002 };
    case 8:
      return { label: "CONNECT with any auth", parts: [`40${namespace(random)}${random.chance(0.7) ? body(jsonValue(random)) : random.text(random.size(30))}`], expect: "any" };
    case 9:
      return { label: "event on a namespace not joined", parts: [`42/not-joined-${random.int(1000)},["e"]`], expect: "close", code: 1002 };
    case 10:
      return { label: "DISCONNECT", parts: [`41${namespace(random)}`], expect: "any" };
    case 11:
      return binaryEvent(random);
    case 12:
      return { label: "payload not an array", parts: [`42${id()}${body(random.pick([{}, "e", 1, null]))}`], expect: "close", code: 1002 };
    case 13:
      return { label: "malformed JSON", parts: [`42${id()}[${random.text(random.size(40))}`], expect: "any" };
    case 14:
      return { label: "mutated event", parts: [mutateText(random, `42${id()}${body([event(), ...args()])}`)], expect: "any" };
    default:
      return { label: "random text", parts: [random.text(random.size(60))], expect: "any" };
  }
}

/** A BINARY_EVENT header and attachments: counts that match, or not; placeholders in range, or not. */
function binaryEvent(random) {
  const announced = random.chance(0.2) ? random.range(LIMITS.attachments + 1, 50) : random.range(0, 4);
  const placeholders = Array.from({ length: random.chance(0.8) ? announced : random.range(0, 4) }, (_, i) => ({
    _placeholder: true,
    num: random.chance(0.85) ? i : random.pick([-1, 99, "0", null, 1.5]),
  }));
  const sent = random.chance(0.8) ? announced : random.range(0, announced + 2);
  const attachments = Array.from({ length: Math.min(sent, 12) }, () => random.bytes(random.size(64)));
  const header = `45${announced}-${JSON.stringify(["bin", ...placeholders])}`;
  if (announced > LIMITS.attachments) return { label: `binary event announcing ${announced} attachments`, parts: [header, ...attachments], expect: "close", code: 1002 };
  // A binary packet announcing no attachment is malformed: it would wait for attachments forever.
  if (announced === 0) return { label: "binary event announcing 0 attachments", parts: [header, ...attachments], expect: "close", code: 1002 };
  const valid =
    announced <= LIMITS.attachments &&
    sent === announced &&
    placeholders.length === announced &&
    placeholders.every((p, i) => p.num === i);
  if (valid) return { label: `binary event, ${announced} attachments`, parts: [header, ...attachments], expect: "open" };
  return { label: `binary event, ${announced} announced, ${sent} sent`, parts: [header, ...attachments], expect: "any" };
}

/** One Engine.IO-level case: control packets, types a client may not send, sizes. */
export function engineIOCase(random) {
  switch (random.int(9)) {
    case 8:
      // Over the default burst of 2,000 at once: a POST of them gets 429 and its session is closed. Over a WebSocket the
      // cases send a few hundred (see webSocketCase): wrangler dev's local proxy passes frames slower than the refill.
      return { label: "packet flood", parts: Array(random.range(2001, 2600)).fill(random.pick(["6", "3", '42["flood"]'])), expect: "close", flood: true };
    case 0:
      return { label: "ping, pong or noop", parts: [random.pick(["2", "3", "6", "2probe", "6junk"])], expect: "open" };
    case 1:
      return { label: "close", parts: ["1"], expect: "close", code: 1000 };
    case 2:
      return { label: "open or upgrade from a client", parts: [random.pick(["0", "5", "0{}", "5x"])], expect: "close", code: 1002 };
    case 3:
      return { label: "unknown type or empty", parts: [random.pick(["", "4", "7", "8", "9", "x", " ", "\x00"])], expect: "close", code: 1002 };
    case 4:
      return { label: "binary message with no packet waiting", parts: [random.bytes(random.size(100))], expect: random.chance(0) ? "open" : "any" };
    case 5:
      return { label: "base64 text frame", parts: ["b" + random.pick(["AQID", "!!!", "", "AA=", Buffer.from(random.bytes(8)).toString("base64")])], expect: "any" };
    case 6: {
      const over = random.chance(0.5);
      const size = over ? LIMITS.maxHttpBufferSize + random.range(1, 1000) : random.range(10_000, 200_000);
      return {
        label: over ? "over maxHttpBufferSize" : "large message",
        parts: [`42["big","${"x".repeat(size)}"]`],
        ...(over ? { expect: "close", code: 1009 } : { expect: "open" }),
      };
    }
    default:
      return { label: "random bytes as text", parts: [new TextDecoder().decode(random.bytes(random.size(50)))], expect: "any" };
  }
}

/** Parts of a case as records of a polling POST body (binary parts base64, "b" prefix). */
export function pollingRecords(parts) {
  return parts.map((part) => (typeof part === "string" ? part : "b" + Buffer.from(part).toString("base64")));
}

export const RECORD_SEPARATOR = "\x1e";
