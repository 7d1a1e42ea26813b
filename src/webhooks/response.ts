import { decodeBinaryJson } from "../rest/binary-json";
import { readAtMost } from "../http/read-limited";

/** What a 2xx answer to a webhook carried. */
export type WebhookResponseBody =
  | { kind: "json"; value: unknown }
  | { kind: "empty" }
  | { kind: "invalid"; reason: string };

/** Same nesting bound as event arguments get elsewhere: a hostile body cannot exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * Reads a response body of at most `maxBytes` and parses it as JSON, turning
 * `{ "$binary": "<base64>" }` into bytes (the REST API's convention), so a
 * receiver can acknowledge with binary data.
 */
export async function readResponseBody(response: Response, maxBytes: number): Promise<WebhookResponseBody> {
  let text: string | null;
  try {
    text = await readLimited(response, maxBytes);
  } catch (error) {
    // The receiver answered 2xx: it has the event. A body cut short must not cause a retry.
    return { kind: "invalid", reason: `body unreadable: ${String(error)}` };
  }
  if (text === null) return { kind: "invalid", reason: `body larger than ${maxBytes} bytes` };
  if (text.trim() === "") return { kind: "empty" };
  try {
    return { kind: "json", value: decodeBinaryJson(JSON.parse(text), "$", MAX_DEPTH) };
  } catch (error) {
    return { kind: "invalid", reason: error instanceof Error ? error.message : "not JSON" };
  }
}

/** The body as text, or null when it is larger than `maxBytes` (reading stops there). */
async function readLimited(response: Response, maxBytes: number): Promise<string | null> {
  const bytes = await readAtMost(response, maxBytes);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}
