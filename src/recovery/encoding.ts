/**
 * Connection state recovery, the pure parts: offsets, which logged packets a
 * session missed, and the bytes a logged packet is stored as. No I/O.
 */
import type { EncodedParts } from "../socket.io/protocol";

/**
 * Offsets are the log's sequence numbers in base 36. A sequence number is at
 * least the time of logging in microseconds, so it keeps growing across
 * evictions, restarts and a log emptied by pruning: an offset is never reused.
 */
export function nextSequence(last: number, now: number): number {
  return Math.max(last + 1, now * 1000);
}

export function formatOffset(sequence: number): string {
  return sequence.toString(36);
}

/** The sequence number an offset names, or null if it cannot be one of ours. */
export function parseOffset(offset: string): number | null {
  if (!/^[0-9a-z]{1,11}$/.test(offset)) return null;
  const sequence = parseInt(offset, 36);
  return Number.isSafeInteger(sequence) ? sequence : null;
}

/**
 * Whether a packet broadcast to `rooms` (none: everyone) except `except`
 * reached a socket that was in `sessionRooms` (its id included), as socket.io's
 * session-aware adapter decides it.
 */
export function selects(sessionRooms: readonly string[], rooms: readonly string[], except: readonly string[]): boolean {
  const included = rooms.length === 0 || sessionRooms.some((room) => rooms.includes(room));
  return included && !sessionRooms.some((room) => except.includes(room));
}

/** The text part of a packet (header and JSON) and its binary attachments, packed in one blob. */
export interface StoredPacket {
  text: string;
  binary: Uint8Array | null;
}

export function packParts(parts: EncodedParts): StoredPacket {
  const [text, ...attachments] = parts;
  if (typeof text !== "string") throw new Error("an encoded packet starts with its text part");
  if (attachments.length === 0) return { text, binary: null };
  const views = attachments.map(bytesOf);
  const blob = new Uint8Array(views.reduce((n, v) => n + 4 + v.byteLength, 0));
  const lengths = new DataView(blob.buffer);
  let at = 0;
  for (const view of views) {
    lengths.setUint32(at, view.byteLength);
    blob.set(view, at + 4);
    at += 4 + view.byteLength;
  }
  return { text, binary: blob };
}

export function unpackParts(stored: StoredPacket): (string | ArrayBuffer)[] {
  const parts: (string | ArrayBuffer)[] = [stored.text];
  const blob = stored.binary;
  if (blob === null) return parts;
  const lengths = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let at = 0; at < blob.byteLength; ) {
    const length = lengths.getUint32(at);
    parts.push(blob.slice(at + 4, at + 4 + length).buffer);
    at += 4 + length;
  }
  return parts;
}

/** Bytes a stored packet takes, for the log's size cap. */
export function storedSize(stored: StoredPacket): number {
  return stored.text.length + (stored.binary?.byteLength ?? 0);
}

function bytesOf(part: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof part === "string") return new TextEncoder().encode(part);
  if (part instanceof ArrayBuffer) return new Uint8Array(part);
  return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
}
