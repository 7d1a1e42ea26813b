import { decodeBinaryJson, encodeBinaryJson } from "../rest/binary-json.js";
import type { EmitterOptions } from "./types.js";

/** A refusal or failure of the REST API, with its HTTP status and stable error code. */
export class EmitterError extends Error {
  constructor(
    /** HTTP status, or 0 when no answer arrived (network error, timeout). */
    readonly status: number,
    /** The API's error code (e.g. "reserved_event"), or "network_error" / "http_error". */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EmitterError";
  }
}

export interface RequestOptions {
  method: "GET" | "POST";
  /** Path under /v1, e.g. "/rooms/lobby/emit". */
  path: string;
  query?: Record<string, string | string[] | undefined>;
  body?: unknown;
  idempotencyKey?: string;
  /** An answer that came back but still deserves a retry (a batch with failed items). */
  retryAnswer?: (answer: any) => boolean;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000;

/** HTTP to the REST API: JSON both ways (binary as {"$binary": "<base64>"}), bearer key, retries. */
export class RestClient {
  private readonly base: string;
  private readonly fetch: NonNullable<EmitterOptions["fetch"]>;
  private readonly retries: number;
  private readonly retryDelay: number;
  private readonly timeout: number;

  constructor(private readonly options: EmitterOptions) {
    if (!options.url) throw new TypeError("Emitter: `url` is required (the Worker's base URL)");
    if (!options.apiKey) throw new TypeError("Emitter: `apiKey` is required (the Worker secret API_KEY)");
    this.base = options.url.replace(/\/+$/, "") + "/v1";
    // Bound: a detached global fetch throws "Illegal invocation" in browsers and Workers.
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.retries = options.retries ?? 3;
    this.retryDelay = options.retryDelay ?? 200;
    this.timeout = options.timeout ?? 10_000;
  }

  async request<T>(request: RequestOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.retries;
      let outcome: { answer: T } | { error: EmitterError; retryAfter: number | null };
      try {
        outcome = await this.attempt<T>(request);
      } catch (error) {
        // Network errors and timeouts: the request may or may not have arrived; the idempotency key covers both.
        outcome = { error: new EmitterError(0, "network_error", String((error as Error)?.message ?? error)), retryAfter: null };
      }
      if ("answer" in outcome) {
        if (last || !request.retryAnswer?.(outcome.answer)) return outcome.answer;
        await sleep(this.backoff(attempt, null));
        continue;
      }
      const retryable = outcome.error.status === 0 || RETRY_STATUSES.has(outcome.error.status);
      if (last || !retryable) throw outcome.error;
      await sleep(this.backoff(attempt, outcome.retryAfter));
    }
  }

  private async attempt<T>(
    request: RequestOptions,
  ): Promise<{ answer: T } | { error: EmitterError; retryAfter: number | null }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.options.apiKey}`, Accept: "application/json" };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(encodeBinaryJson(request.body));
    }
    if (request.idempotencyKey !== undefined) headers["Idempotency-Key"] = request.idempotencyKey;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.timeout} ms`)), this.timeout);
    try {
      const response = await this.fetch(this.url(request), {
        method: request.method,
        headers,
        body,
        signal: controller.signal,
      });
      const text = await response.text();
      const json = parseJson(text);
      if (response.ok) return { answer: decodeBinaryValues(json) as T };
      const apiError = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const error =
        typeof apiError?.code === "string"
          ? new EmitterError(response.status, apiError.code, String(apiError.message))
          : new EmitterError(response.status, "http_error", `HTTP ${response.status}: ${text.slice(0, 200)}`);
      return { error, retryAfter: retryAfterMs(response.headers.get("Retry-After")) };
    } finally {
      clearTimeout(timer);
    }
  }

  private url({ path, query }: RequestOptions): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
    }
    const qs = search.toString();
    return this.base + path + (qs ? "?" + qs : "");
  }

  private backoff(attempt: number, retryAfter: number | null): number {
    if (retryAfter !== null) return retryAfter;
    return this.retryDelay * 2 ** attempt * (0.5 + Math.random());
  }
}

/** A key for one logical publish, reused by its retries. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeBinaryValues(value: unknown): unknown {
  try {
    return decodeBinaryJson(value);
  } catch {
    return value; // Data that only looks like a malformed wrapper: leave it as it came.
  }
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
