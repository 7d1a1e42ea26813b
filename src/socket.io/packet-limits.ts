/**
 * Limits on the shape of a client's Socket.IO packet, checked on its text
 * before socket.io-parser decodes it. socket.io-parser and the layers after it
 * (binary reconstruction, broadcast encoding, argument spreading) recurse once
 * per nesting level and spread every argument into a call: a packet of 200,000
 * nested arrays, or of 200,000 arguments, fits in a 1 MB message and makes them
 * throw mid-way, after the work and memory are spent. One pass over the
 * characters refuses such a packet first; the room then closes that connection,
 * as socket.io does for a packet it cannot decode.
 */

/** Deepest nesting of arrays and objects in a packet's data (the REST API allows as much: src/rest/limits.ts). */
export const MAX_PACKET_DEPTH = 32;
/** Most arguments of an event or an ack (the event name not counted). */
export const MAX_PACKET_ARGS = 1_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const SLASH = 0x2f;
const DASH = 0x2d;
const BINARY_EVENT = 0x35; // "5"
const BINARY_ACK = 0x36; // "6"

/**
 * Why a client's text packet (`<type>[<attachments>-][<nsp>,][<id>]<json>`)
 * is refused before decoding, or null. Only counts brackets and commas outside
 * JSON strings: the packet may still be malformed, which the decoder reports.
 */
export function packetShapeRefusal(text: string): string | null {
  // socket.io-parser reads "" as a CONNECT to "/"; socket.io refuses it (engine.io hands it no data).
  if (text.length === 0) return "empty packet";
  const type = text.charCodeAt(0);
  // socket.io-parser would wait forever for the attachments of a binary packet that announces none,
  // keeping every binary frame that follows.
  if ((type === BINARY_EVENT || type === BINARY_ACK) && /^.0+-/.test(text)) return "binary packet announcing no attachment";
  // Too short to pass either limit: the common small event costs nothing more.
  if (text.length <= MAX_PACKET_DEPTH + 1) return null;
  const start = dataStart(text);
  let depth = 0;
  let topLevelItems = 0;
  for (let i = start; i < text.length; i++) {
    switch (text.charCodeAt(i)) {
      case QUOTE:
        i = stringEnd(text, i);
        break;
      case OPEN_ARRAY:
        if (++depth > MAX_PACKET_DEPTH) return `packet nested deeper than ${MAX_PACKET_DEPTH} levels`;
        if (depth === 1) topLevelItems = 1;
        break;
      case OPEN_OBJECT:
        if (++depth > MAX_PACKET_DEPTH) return `packet nested deeper than ${MAX_PACKET_DEPTH} levels`;
        break;
      case CLOSE_ARRAY:
      case CLOSE_OBJECT:
        depth--;
        break;
      case COMMA:
        // The top-level array is [event, ...args] (EVENT) or [...args] (ACK): at most one more item than args.
        if (depth === 1 && topLevelItems > 0 && ++topLevelItems > MAX_PACKET_ARGS + 1) {
          return `packet with more than ${MAX_PACKET_ARGS} arguments`;
        }
        break;
    }
  }
  return null;
}

/** Index of the quote that closes the JSON string opened at `open` (the text's end if none): strings are skipped whole. */
function stringEnd(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  while (quote > 0) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

/** Index of the JSON data after the type, attachment count, namespace and ack id of a text packet. */
function dataStart(text: string): number {
  let i = 1;
  // Attachment count of a binary packet: digits then "-".
  let j = i;
  while (j < text.length && isDigit(text.charCodeAt(j))) j++;
  if (j > i && text.charCodeAt(j) === DASH) i = j + 1;
  // Namespace: from "/" to the next ",".
  if (text.charCodeAt(i) === SLASH) {
    const comma = text.indexOf(",", i);
    i = comma < 0 ? text.length : comma + 1;
  }
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
