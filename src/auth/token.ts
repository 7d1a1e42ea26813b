import { base64UrlToBytes } from "./base64url";
import { AuthError } from "./errors";

/** Longer tokens are refused before parsing: real ones are well under 2 KB, and the auth payload is kept in the socket attachment (16 KB for everything). */
export const MAX_TOKEN_LENGTH = 4096;

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
  [name: string]: unknown;
}

/**
 * Claims of a verified token. `rooms` and `namespaces` limit where the client
 * may connect (see access.ts); any other claim is passed through untouched.
 */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  rooms?: string[];
  namespaces?: string[];
  [name: string]: unknown;
}

/** A compact JWS split into its parts; nothing in it is trusted yet. */
export interface ParsedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  /** `<header>.<payload>` as sent: the bytes the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const malformed = () => new AuthError("token_malformed", "malformed token");

/** Splits and decodes a compact JWS. Throws AuthError("token_malformed") on anything else. */
export function parseJwt(token: string): ParsedJwt {
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError("token_too_large", "token too large");
  const parts = token.split(".");
  if (parts.length !== 3) throw malformed();
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = decodeJsonObject(headerPart);
  const claims = decodeJsonObject(payloadPart);
  const signature = base64UrlToBytes(signaturePart);
  if (signature === null || typeof header.alg !== "string") throw malformed();
  if (header.kid !== undefined && typeof header.kid !== "string") throw malformed();
  // RFC 7515 4.1.11: a token relying on extensions we do not implement must be refused.
  if (header.crit !== undefined) throw new AuthError("token_malformed", "unsupported token header");
  return {
    header: header as JwtHeader,
    claims: claims as JwtClaims,
    signingInput: new TextEncoder().encode(headerPart + "." + payloadPart),
    signature,
  };
}

function decodeJsonObject(part: string): Record<string, unknown> {
  const bytes = base64UrlToBytes(part);
  if (bytes === null || bytes.length === 0) throw malformed();
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw malformed();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed();
  return value as Record<string, unknown>;
}
