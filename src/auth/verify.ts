import { importHmacSecret, isSignatureAlgorithm, verifySignature } from "./algorithms";
import { checkRegisteredClaims } from "./claims";
import type { AuthConfig } from "./config";
import { AuthError } from "./errors";
import { sharedJwksCache, type Fetcher, type JwksCache } from "./jwks";
import { parseJwt, type JwtClaims } from "./token";

/** I/O and clock, injectable for tests. */
export interface VerifyOptions {
  fetch?: Fetcher;
  jwksCache?: JwksCache;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/**
 * Verifies a compact JWS (HS256 with `config.secret`, RS256/ES256 with the keys
 * of `config.jwksUrl`) and its registered claims, and returns its claims.
 * The signature is checked before any claim, so a forged token learns nothing
 * from the error. Throws AuthError; access claims are checked by authorizeConnect.
 */
export async function verifyJwt(token: string, config: AuthConfig, options: VerifyOptions = {}): Promise<JwtClaims> {
  const now = (options.now ?? Date.now)();
  const { header, claims, signingInput, signature } = parseJwt(token);
  const alg = header.alg;
  if (!isSignatureAlgorithm(alg)) throw notAccepted();

  let keys: CryptoKey[];
  if (alg === "HS256") {
    if (config.secret === undefined) throw notAccepted();
    keys = [await importHmacSecret(config.secret)];
  } else {
    if (config.jwksUrl === undefined) throw notAccepted();
    const cache = options.jwksCache ?? sharedJwksCache;
    const fetcher = options.fetch ?? ((url, init) => fetch(url, init));
    keys = await cache.keysFor(config.jwksUrl, alg, header.kid, fetcher, now);
  }

  let valid = false;
  for (const key of keys) {
    if (await verifySignature(alg, key, signature, signingInput)) {
      valid = true;
      break;
    }
  }
  if (!valid) throw new AuthError("signature_invalid", "invalid signature");

  checkRegisteredClaims(claims, config, Math.floor(now / 1000));
  return claims;
}

function notAccepted(): AuthError {
  return new AuthError("algorithm_not_accepted", "token algorithm not accepted");
}
