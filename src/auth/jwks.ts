import { importPublicJwk, jwkFits, type PublicKeyAlgorithm } from "./algorithms";
import { AuthError } from "./errors";

/** What the cache fetches with; the global `fetch` by default, a stub in tests. */
export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

export interface JwksCacheOptions {
  /** Lifetime of a JWKS whose response has no usable Cache-Control max-age. */
  defaultTtlMs?: number;
  /** Bounds applied to max-age: keys are never cached for less or more than this. */
  minTtlMs?: number;
  maxTtlMs?: number;
  /** Two fetches of one URL are at least this far apart (unknown `kid`, failed fetch). */
  minRefetchIntervalMs?: number;
  /** How long keys that could not be refreshed keep being used. */
  staleIfErrorMs?: number;
  fetchTimeoutMs?: number;
  log?: (message: string) => void;
}

type JwkEntry = JsonWebKey & { kid?: unknown; use?: unknown };

interface CachedJwks {
  keys: JwkEntry[];
  expiresAt: number;
  /** Imports are cached too: an RSA import costs more than a verify. */
  imported: Map<JwkEntry, Promise<CryptoKey | null>>;
}

/** Tokens without `kid` are tried against at most this many keys of the right type. */
const MAX_CANDIDATES = 5;

/**
 * In-memory JWKS cache, keyed by URL and shared by every object in the
 * isolate. A token naming a `kid` the cache does not know triggers one refetch
 * (key rotation), throttled so that a stream of made-up `kid`s cannot turn
 * into a stream of requests to the identity provider.
 */
export class JwksCache {
  private readonly entries = new Map<string, CachedJwks>();
  private readonly lastAttemptAt = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<CachedJwks | null>>();
  private readonly options: Required<JwksCacheOptions>;

  constructor(options: JwksCacheOptions = {}) {
    this.options = {
      defaultTtlMs: 10 * 60_000,
      minTtlMs: 60_000,
      maxTtlMs: 24 * 3600_000,
      minRefetchIntervalMs: 30_000,
      staleIfErrorMs: 3600_000,
      fetchTimeoutMs: 5_000,
      log: (message) => console.warn(message),
      ...options,
    };
  }

  /**
   * The imported keys that may verify a token with this `alg` and `kid`.
   * Throws AuthError when no key fits or the JWKS cannot be had.
   */
  async keysFor(url: string, alg: PublicKeyAlgorithm, kid: string | undefined, fetcher: Fetcher, now: number): Promise<CryptoKey[]> {
    let entry = this.entries.get(url);
    let fetchedNow = false;
    if (entry === undefined || entry.expiresAt <= now) {
      const fresh = await this.refresh(url, fetcher, now);
      fetchedNow = fresh !== null;
      entry = fresh ?? this.usableStale(entry, now);
    }
    let candidates = select(entry.keys, alg, kid);
    if (candidates.length === 0 && !fetchedNow) {
      // Maybe the issuer rotated keys since we fetched them.
      const fresh = await this.refresh(url, fetcher, now);
      if (fresh !== null) candidates = select(fresh.keys, alg, kid);
    }
    if (candidates.length === 0) throw new AuthError("signing_key_unknown", "unknown signing key");
    const current = this.entries.get(url) ?? entry;
    const keys = await Promise.all(candidates.slice(0, MAX_CANDIDATES).map((jwk) => this.imported(current, jwk, alg, url)));
    return keys.filter((key): key is CryptoKey => key !== null);
  }

  private usableStale(entry: CachedJwks | undefined, now: number): CachedJwks {
    if (entry === undefined || entry.expiresAt + this.options.staleIfErrorMs <= now) {
      throw new AuthError("signing_keys_unavailable", "signing keys unavailable");
    }
    return entry;
  }

  /** A freshly fetched JWKS, or null when fetching now is throttled or fails. One fetch per URL at a time. */
  private refresh(url: string, fetcher: Fetcher, now: number): Promise<CachedJwks | null> {
    const pending = this.inFlight.get(url);
    if (pending) return pending;
    const last = this.lastAttemptAt.get(url);
    if (last !== undefined && now - last < this.options.minRefetchIntervalMs) return Promise.resolve(null);
    this.lastAttemptAt.set(url, now);
    const request = this.download(url, fetcher, now).finally(() => this.inFlight.delete(url));
    this.inFlight.set(url, request);
    return request;
  }

  private async download(url: string, fetcher: Fetcher, now: number): Promise<CachedJwks | null> {
    try {
      const response = await fetcher(url, {
        headers: { Accept: "application/json" },
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const keys = parseJwks(await response.json());
      const entry: CachedJwks = { keys, expiresAt: now + this.ttl(response.headers.get("Cache-Control")), imported: new Map() };
      this.entries.set(url, entry);
      return entry;
    } catch (error) {
      this.options.log(`auth: fetching JWKS ${url} failed: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  private ttl(cacheControl: string | null): number {
    const { defaultTtlMs, minTtlMs, maxTtlMs } = this.options;
    if (cacheControl === null) return defaultTtlMs;
    if (/\b(no-store|no-cache)\b/i.test(cacheControl)) return minTtlMs;
    const maxAge = /\bmax-age=(\d+)/i.exec(cacheControl);
    if (maxAge === null) return defaultTtlMs;
    return Math.min(maxTtlMs, Math.max(minTtlMs, Number(maxAge[1]) * 1000));
  }

  private imported(entry: CachedJwks, jwk: JwkEntry, alg: PublicKeyAlgorithm, url: string): Promise<CryptoKey | null> {
    let key = entry.imported.get(jwk);
    if (key === undefined) {
      key = importPublicJwk(jwk, alg).catch((error: unknown) => {
        this.options.log(`auth: unusable key ${String(jwk.kid ?? "(no kid)")} in ${url}: ${String(error)}`);
        return null;
      });
      entry.imported.set(jwk, key);
    }
    return key;
  }
}

function select(keys: JwkEntry[], alg: PublicKeyAlgorithm, kid: string | undefined): JwkEntry[] {
  return keys.filter((jwk) => jwkFits(jwk, alg) && (kid === undefined || jwk.kid === kid));
}

function parseJwks(body: unknown): JwkEntry[] {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('not a JWKS (no "keys" array)');
  return keys.filter((key): key is JwkEntry => typeof key === "object" && key !== null && typeof key.kty === "string");
}

/** The cache used when none is given: one per isolate, so objects of the isolate share it. */
export const sharedJwksCache = new JwksCache();
