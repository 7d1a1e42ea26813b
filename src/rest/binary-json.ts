/**
 * Binary values in JSON: `{ "$binary": "<base64>" }` stands for bytes, anywhere
 * in event arguments (and in socket data returned by the API). The room hands the
 * decoded bytes to Socket.IO, which sends them as binary attachments, so clients
 * receive real binary (an ArrayBuffer in browsers, a Buffer in Node).
 *
 * Base64 is the standard alphabet of RFC 4648 section 4, padding optional. An
 * object whose only key is "$binary" is always read as bytes.
 *
 * Shared by the Worker and the emitter SDK: web-standard JavaScript only.
 */
export const BINARY_KEY = "$binary";

export interface BinaryJson {
  $binary: string;
}

/** A value that cannot be decoded, with where it is (e.g. `args[1].file`). */
export class BinaryJsonError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = "BinaryJsonError";
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
/** btoa takes a string: convert in slices so large arrays stay within argument limits. */
const SLICE = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

/** Bytes of a base64 string, or null when it is not base64. */
export function base64ToBytes(base64: string): Uint8Array | null {
  if (!BASE64.test(base64)) return null;
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBinary(value);
}

/**
 * Replaces every `{ "$binary": "..." }` in a parsed JSON value by its bytes
 * (a Uint8Array). Throws BinaryJsonError on a malformed wrapper or nesting
 * deeper than `maxDepth`.
 */
export function decodeBinaryJson(value: unknown, path = "$", maxDepth = Infinity): unknown {
  return decode(value, path, maxDepth);
}

function decode(value: unknown, path: string, depthLeft: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depthLeft <= 0) throw new BinaryJsonError(path, "nested too deeply");
  if (Array.isArray(value)) return value.map((item, i) => decode(item, `${path}[${i}]`, depthLeft - 1));
  const keys = Object.keys(value);
  if (BINARY_KEY in value) {
    const base64 = (value as Record<string, unknown>)[BINARY_KEY];
    if (keys.length !== 1 || typeof base64 !== "string") {
      throw new BinaryJsonError(path, `a binary value is {"${BINARY_KEY}": "<base64>"} and nothing else`);
    }
    const bytes = base64ToBytes(base64);
    if (bytes === null) throw new BinaryJsonError(path, `"${BINARY_KEY}" is not base64 (RFC 4648, standard alphabet)`);
    return bytes;
  }
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    setOwn(result, key, decode((value as Record<string, unknown>)[key], `${path}.${key}`, depthLeft - 1));
  }
  return result;
}

/**
 * Replaces binary values (ArrayBuffer, typed arrays, DataView, Node Buffers)
 * by `{ "$binary": "<base64>" }`, so the value can go through JSON.stringify.
 * BigInts, which JSON cannot hold, become decimal strings.
 */
export function encodeBinaryJson(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof ArrayBuffer) return { [BINARY_KEY]: bytesToBase64(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { [BINARY_KEY]: bytesToBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(encodeBinaryJson);
  if (!isPlainObject(value)) return value;
  // Objects with toJSON (Date, ...) keep their own JSON form.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setOwn(result, key, encodeBinaryJson(item));
  return result;
}

/** Assigns without invoking setters: JSON may carry a "__proto__" key, which must stay a plain key. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
