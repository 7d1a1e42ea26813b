import { readWebhookConfig, wantsWebhook, type WebhookConfig, type WebhookEnv, type WebhookKind } from "./config";
import type { WebhookPayload } from "./payload";
import { readResponseBody, type WebhookResponseBody } from "./response";
import { ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./signature";

export type WebhookFetcher = (url: string, init: RequestInit) => Promise<Response>;

/** Why nothing usable came back. */
export type WebhookFailure =
  /** WEBHOOK_SECRET is missing: nothing is sent unsigned. */
  | "unsigned"
  /** Too many deliveries in flight in this object: dropped. */
  | "overloaded"
  /** A status that retrying cannot fix (3xx, 4xx other than 429). */
  | "rejected"
  /** Network errors, timeouts, 5xx or 429 on every attempt. */
  | "exhausted"
  /** The payload cannot be turned into JSON (e.g. a circular argument). */
  | "unserializable";

export type WebhookOutcome =
  | { delivered: true; status: number; body: WebhookResponseBody }
  | { delivered: false; reason: WebhookFailure; status?: number };

export interface WebhookClientOptions {
  /** Deliveries in flight (retries and their waits included) above which new ones are dropped. */
  maxInFlight?: number;
  /** First retry waits about this long, then twice as long each time (capped at 2 s), plus jitter. */
  backoffMs?: number;
  /** Largest response body read, bytes. */
  maxResponseBytes?: number;
  /** Hands each delivery to the runtime so it completes after the event that started it (`ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
  sleep?: (ms: number) => Promise<void>;
  /** ms since the epoch, for the signature timestamp. */
  now?: () => number;
  log?: (message: string) => void;
}

const MAX_BACKOFF_MS = 2_000;

/**
 * POSTs signed webhooks. `send` never rejects and never throws: a failing
 * endpoint costs a log line and an outcome, not an exception in the room.
 * One client per room object; its in-flight bound is per object.
 */
export class WebhookClient {
  private inFlightCount = 0;
  private warnedUnsigned = false;
  private readonly options: Required<Omit<WebhookClientOptions, "waitUntil">> & Pick<WebhookClientOptions, "waitUntil">;

  constructor(
    readonly config: WebhookConfig,
    private readonly fetcher: WebhookFetcher = (url, init) => fetch(url, init),
    options: WebhookClientOptions = {},
  ) {
    this.options = {
      maxInFlight: 32,
      backoffMs: 250,
      maxResponseBytes: 1_000_000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
      log: (message) => console.warn(message),
      ...options,
    };
  }

  /** A client for the environment's WEBHOOK_* settings, or null when webhooks are off. */
  static fromEnv(env: WebhookEnv, fetcher?: WebhookFetcher, options?: WebhookClientOptions): WebhookClient | null {
    const config = readWebhookConfig(env);
    return config === null ? null : new WebhookClient(config, fetcher, options);
  }

  /** Whether WEBHOOK_EVENTS asks for this kind of delivery (and this event name). */
  wants(kind: WebhookKind, event?: string): boolean {
    return wantsWebhook(this.config.events, kind, event);
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /**
   * Delivers one payload with retries. Callers do not await connect and
   * disconnect deliveries; for events, the outcome becomes the ack (see ackValue).
   */
  send(payload: WebhookPayload): Promise<WebhookOutcome> {
    if (this.config.secret === null) {
      if (!this.warnedUnsigned) {
        this.warnedUnsigned = true;
        this.options.log("webhook: WEBHOOK_URL is set but WEBHOOK_SECRET is not; no webhook is sent until it is (wrangler secret put WEBHOOK_SECRET)");
      }
      return Promise.resolve({ delivered: false, reason: "unsigned" });
    }
    if (this.inFlightCount >= this.options.maxInFlight) {
      this.options.log(`webhook: ${this.options.maxInFlight} deliveries in flight, ${payload.type} ${payload.id} dropped`);
      return Promise.resolve({ delivered: false, reason: "overloaded" });
    }
    this.inFlightCount++;
    const delivery = this.deliver(payload, this.config.secret).finally(() => this.inFlightCount--);
    try {
      this.options.waitUntil?.(delivery);
    } catch (error) {
      // Outside an event the runtime may refuse; the delivery runs anyway.
      this.options.log(`webhook: waitUntil refused: ${String(error)}`);
    }
    return delivery;
  }

  private async deliver(payload: WebhookPayload, secret: string): Promise<WebhookOutcome> {
    let body: string;
    try {
      body = JSON.stringify(payload);
    } catch (error) {
      this.options.log(`webhook: ${payload.type} ${payload.id} not sent, payload is not JSON: ${String(error)}`);
      return { delivered: false, reason: "unserializable" };
    }
    const { retries } = this.config;
    let lastStatus: number | undefined;
    let lastProblem = "";
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await this.options.sleep(this.backoff(attempt));
      try {
        const response = await this.post(body, payload.id, attempt, secret);
        if (response.ok) {
          const responseBody = await readResponseBody(response, this.options.maxResponseBytes);
          if (responseBody.kind === "invalid") this.options.log(`webhook: ${payload.type} ${payload.id}: unusable response (${responseBody.reason})`);
          return { delivered: true, status: response.status, body: responseBody };
        }
        await response.body?.cancel().catch(() => {});
        lastStatus = response.status;
        lastProblem = `HTTP ${response.status}`;
        if (!isRetryable(response.status)) {
          this.options.log(`webhook: ${payload.type} ${payload.id} rejected with HTTP ${response.status}, not retried`);
          return { delivered: false, reason: "rejected", status: response.status };
        }
      } catch (error) {
        lastStatus = undefined;
        lastProblem = error instanceof Error && error.name === "TimeoutError" ? `timed out after ${this.config.timeoutMs} ms` : String(error);
      }
    }
    this.options.log(`webhook: ${payload.type} ${payload.id} failed after ${retries + 1} attempts (last: ${lastProblem})`);
    return lastStatus === undefined ? { delivered: false, reason: "exhausted" } : { delivered: false, reason: "exhausted", status: lastStatus };
  }

  /** Signed per attempt, so a late retry still falls within the receiver's tolerance. */
  private async post(body: string, id: string, attempt: number, secret: string): Promise<Response> {
    const timestamp = Math.floor(this.options.now() / 1000);
    return this.fetcher(this.config.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "socketio-edge-webhooks/1",
        [DELIVERY_HEADER]: id,
        [ATTEMPT_HEADER]: String(attempt + 1),
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: await signWebhook(secret, timestamp, body),
      },
      body,
      // A redirect would re-send the signed body to wherever it points.
      redirect: "manual",
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffMs;
    return Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1)) + Math.floor(Math.random() * base);
  }
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * What the client's ack receives for an event webhook: the response's JSON
 * (binary values decoded); null for an empty 2xx body; `{ error: "invalid
 * webhook response" }` for a 2xx body that is not JSON or too large; and
 * `{ error: "webhook failed" }` when nothing was delivered.
 */
export function ackValue(outcome: WebhookOutcome): unknown {
  if (!outcome.delivered) return { error: "webhook failed" };
  switch (outcome.body.kind) {
    case "json":
      return outcome.body.value;
    case "empty":
      return null;
    case "invalid":
      return { error: "invalid webhook response" };
  }
}
