import { DEFAULT_CLOCK_SKEW_SECONDS, type AuthConfig } from "./config";
import { AuthError } from "./errors";
import type { JwtClaims } from "./token";

/**
 * Checks the registered claims of a token whose signature is valid: times
 * (RFC 7519 4.1.4-6, `exp` required: a connect token that never expires is a
 * standing credential), then issuer and audience when configured.
 */
export function checkRegisteredClaims(
  claims: JwtClaims,
  config: Pick<AuthConfig, "issuer" | "audience" | "clockSkewSeconds">,
  nowSeconds: number,
): void {
  const skew = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const exp = numericDate(claims, "exp");
  const nbf = numericDate(claims, "nbf");
  const iat = numericDate(claims, "iat");
  if (exp === undefined) throw new AuthError("expiry_missing", "token has no expiry");
  if (nowSeconds - skew >= exp) throw new AuthError("token_expired", "token expired");
  if (nbf !== undefined && nowSeconds + skew < nbf) throw new AuthError("token_not_yet_valid", "token not yet valid");
  if (iat !== undefined && nowSeconds + skew < iat) throw new AuthError("token_issued_in_future", "token issued in the future");

  if (config.issuer !== undefined && claims.iss !== config.issuer) {
    throw new AuthError("issuer_not_accepted", "token issuer not accepted");
  }
  if (config.audience !== undefined && !audienceIncludes(claims.aud, config.audience)) {
    throw new AuthError("audience_not_accepted", "token audience not accepted");
  }
}

function numericDate(claims: JwtClaims, name: "exp" | "nbf" | "iat"): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new AuthError("claim_invalid", `invalid "${name}" claim`);
  }
  return value;
}

function audienceIncludes(aud: unknown, expected: string): boolean {
  if (typeof aud === "string") return aud === expected;
  return Array.isArray(aud) && aud.includes(expected);
}
