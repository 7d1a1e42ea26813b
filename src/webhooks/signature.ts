/**
 * Webhook signatures. Web-standard JavaScript only (WebCrypto, TextEncoder),
 * so a receiver on Node 18+, Deno, Bun or Workers can import
 * verifyWebhookSignature as is.
 *
 *   signed bytes = UTF-8(timestamp) + "." + raw request body
 *   signature    = lowercase hex of HMAC-SHA256(key = UTF-8(secret), signed bytes)
 *   headers      = X-Socketio-Edge-Timestamp: <unix seconds>
 *                  X-Socketio-Edge-Signature: v1=<signature>
 */
export const TIMESTAMP_HEADER = "X-Socketio-Edge-Timestamp";
export const SIGNATURE_HEADER = "X-Socketio-Edge-Signature";
export const DELIVERY_HEADER = "X-Socketio-Edge-Delivery";
/** 1 for the first attempt, 2 for the first retry, ... */
export const ATTEMPT_HEADER = "X-Socketio-Edge-Attempt";
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SCHEME = "v1=";
const HEX_SIGNATURE = /^[0-9a-f]{64}$/i;
const TIMESTAMP = /^\d{1,15}$/;

/** The signature header's value for this body and timestamp. */
export async function signWebhook(secret: string, timestampSeconds: number, body: string): Promise<string> {
  return SCHEME + toHex(await hmac(secret, signedBytes(String(timestampSeconds), body)));
}

/**
 * Whether a webhook request is authentic and recent. Pass the raw body (before
 * any JSON parsing: a re-serialized body does not match) and the two header
 * values. The header may list several `v1=` values separated by commas or
 * spaces (one per secret during a rotation); any match is accepted. A timestamp
 * more than `toleranceSeconds` from now, either way, fails: that bounds replays.
 */
export async function verifyWebhookSignature(
  secret: string,
  timestamp: string | null | undefined,
  body: string | Uint8Array,
  signature: string | null | undefined,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  nowSeconds: number = Date.now() / 1000,
): Promise<boolean> {
  if (!secret || !timestamp || !signature || !TIMESTAMP.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const candidates = signature
    .split(/[\s,]+/)
    .filter((part) => part.startsWith(SCHEME) && HEX_SIGNATURE.test(part.slice(SCHEME.length)))
    .map((part) => fromHex(part.slice(SCHEME.length)));
  if (candidates.length === 0) return false;
  const expected = await hmac(secret, signedBytes(timestamp, body));
  let matched = false;
  // No early exit: the time taken does not tell which candidate, or which byte, differed.
  for (const candidate of candidates) matched = constantTimeEqual(expected, candidate) || matched;
  return matched;
}

function signedBytes(timestamp: string, body: string | Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(timestamp + ".");
  const rest = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const bytes = new Uint8Array(prefix.length + rest.length);
  bytes.set(prefix);
  bytes.set(rest, prefix.length);
  return bytes;
}

async function hmac(secret: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
