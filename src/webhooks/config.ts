import { requireSecureUrl } from "../http/secure-url";
import type { Env } from "../config";

/** Which deliveries are wanted. Client event names "connect"/"disconnect" are reserved by Socket.IO, so they cannot clash. */
export interface WebhookEventFilter {
  connect: boolean;
  disconnect: boolean;
  /** "*": every client event. */
  allEvents: boolean;
  events: ReadonlySet<string>;
}

export interface WebhookConfig {
  url: string;
  /** null: WEBHOOK_URL is set without WEBHOOK_SECRET; the client then refuses to send (fails closed). */
  secret: string | null;
  events: WebhookEventFilter;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first one, on network errors, timeouts, 5xx and 429. */
  retries: number;
}

export type WebhookKind = "connect" | "disconnect" | "event";

const DEFAULT_EVENTS = "connect,disconnect";
const DEFAULT_TIMEOUT_MS = 5_000;
const TIMEOUT_RANGE = [100, 30_000] as const;
const DEFAULT_RETRIES = 2;
const RETRIES_RANGE = [0, 5] as const;

export type WebhookEnv = Pick<Env, "WEBHOOK_URL" | "WEBHOOK_SECRET" | "WEBHOOK_EVENTS" | "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_RETRIES">;

/**
 * The webhook configuration, or null when WEBHOOK_URL is not set. Throws on a
 * malformed value (like the other settings, see src/config.ts). A missing
 * secret is not an error here: the client logs it and sends nothing.
 */
export function readWebhookConfig(env: WebhookEnv): WebhookConfig | null {
  const url = env.WEBHOOK_URL?.trim();
  if (!url) return null;
  // Payloads can hold private messages.
  requireSecureUrl("WEBHOOK_URL", url);
  return {
    url,
    // Secrets piped in by `echo` end with a newline.
    secret: env.WEBHOOK_SECRET?.trim() || null,
    events: parseWebhookEvents(env.WEBHOOK_EVENTS ?? DEFAULT_EVENTS),
    timeoutMs: intInRange(env.WEBHOOK_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, TIMEOUT_RANGE, "WEBHOOK_TIMEOUT_MS"),
    retries: intInRange(env.WEBHOOK_RETRIES, DEFAULT_RETRIES, RETRIES_RANGE, "WEBHOOK_RETRIES"),
  };
}

/** "connect, disconnect, chat, *" → filter. Empty entries are ignored; an empty list wants nothing. */
export function parseWebhookEvents(list: string): WebhookEventFilter {
  const names = list.split(",").map((name) => name.trim()).filter(Boolean);
  const events = new Set(names.filter((name) => name !== "connect" && name !== "disconnect" && name !== "*"));
  return { connect: names.includes("connect"), disconnect: names.includes("disconnect"), allEvents: names.includes("*"), events };
}

export function wantsWebhook(filter: WebhookEventFilter, kind: WebhookKind, event?: string): boolean {
  if (kind !== "event") return filter[kind];
  return filter.allEvents || (event !== undefined && filter.events.has(event));
}


function intInRange(value: string | undefined, fallback: number, [min, max]: readonly [number, number], name: string): number {
  const v = value?.trim();
  if (!v) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
