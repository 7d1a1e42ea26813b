/**
 * How a session is kept in its WebSocket's attachment: one string, so that a
 * wake reads it at the cost of a copy. The runtime's structured clone of a
 * nested object costs several µs per WebSocket to read back (a few ms per
 * 1,000 sockets, before the first message of a wake is delivered); a string
 * costs a fraction of that. What a wake needs of every WebSocket (whether it is
 * an unfinished upgrade, and the layer above's summary: namespaces, socket ids
 * and rooms) comes first; the full state is parsed only for a WebSocket whose
 * session is rebuilt.
 *
 *   "s" | "u"   a session, or a WebSocket only probing an upgrade
 *   sid         (a request naming it finds its WebSocket without parsing)
 *   "\n"
 *   summary     the layer above's, without a line feed (JSON never has one)
 *   "\n"
 *   JSON        the SessionAttachment
 */

/** What a session writes into its WebSocket's attachment, so it survives hibernation. */
export interface SessionAttachment<S> {
  sid: string;
  createdAt: number;
  /** Last pong JavaScript saw (only written when the runtime does not answer pongs). */
  lastPongAt?: number;
  /** Set while this WebSocket is only probing an upgrade of a polling session. */
  upgrading?: true;
  /** The upper layer's (Socket.IO's) state for this connection. */
  state: S;
}

/** The runtime's limit for one attachment, as structured-clone data (16 KiB), less room for its header. */
export const MAX_ATTACHMENT_BYTES = 16_000;

const SESSION = "s";
const UPGRADING = "u";
const SEPARATOR = "\n";
/** A string with a character above U+00FF is stored with two bytes per character. */
const TWO_BYTE = /[^\u0000-\u00ff]/;

/** The stored form of `attachment`, with the layer above's `summary` in front. */
export function encodeAttachment<S>(attachment: SessionAttachment<S>, summary: string): string {
  if (attachment.sid.includes(SEPARATOR) || summary.includes(SEPARATOR)) throw new Error("an attachment's sid or summary cannot hold a line feed");
  const flag = attachment.upgrading ? UPGRADING : SESSION;
  return flag + attachment.sid + SEPARATOR + summary + SEPARATOR + JSON.stringify(attachment);
}

/** What storing `stored` costs of the runtime's 16 KiB. */
export function attachmentBytes(stored: string): number {
  return TWO_BYTE.test(stored) ? 2 * stored.length : stored.length;
}

/** Whether a value read back from an attachment is one this module wrote. */
export function isStoredAttachment(value: unknown): value is string {
  if (typeof value !== "string" || (value[0] !== SESSION && value[0] !== UPGRADING)) return false;
  const first = value.indexOf(SEPARATOR);
  return first > 0 && value.indexOf(SEPARATOR, first + 1) > first;
}

/** Whether the WebSocket only probes an upgrade of a polling session. */
export function isUpgradeAttachment(stored: string): boolean {
  return stored[0] === UPGRADING;
}

/** Whether the attachment is the session `sid`'s. */
export function isAttachmentOf(stored: string, sid: string): boolean {
  return stored.startsWith(sid, 1) && stored[1 + sid.length] === SEPARATOR;
}

/** The layer above's summary, read without parsing the state. */
export function attachmentSummary(stored: string): string {
  const first = stored.indexOf(SEPARATOR);
  return stored.slice(first + 1, stored.indexOf(SEPARATOR, first + 1));
}

/** The whole attachment (parses the JSON: for a session that is rebuilt or judged). */
export function decodeAttachment<S>(stored: string): SessionAttachment<S> {
  const first = stored.indexOf(SEPARATOR);
  return JSON.parse(stored.slice(stored.indexOf(SEPARATOR, first + 1) + 1)) as SessionAttachment<S>;
}
