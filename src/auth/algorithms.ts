/**
 * The JWS algorithms accepted, and how each maps onto WebCrypto. The algorithm
 * decides where the key comes from: HS256 only ever uses the shared secret,
 * RS256/ES256 only public keys of the JWKS, so a token cannot pick a key of
 * another kind (no RSA public key used as an HMAC secret, no "none").
 */
export type SignatureAlgorithm = "HS256" | "RS256" | "ES256";
export type PublicKeyAlgorithm = Exclude<SignatureAlgorithm, "HS256">;

export function isSignatureAlgorithm(alg: string): alg is SignatureAlgorithm {
  return alg === "HS256" || alg === "RS256" || alg === "ES256";
}

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const ECDSA_IMPORT = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDSA_VERIFY = { name: "ECDSA", hash: "SHA-256" } as const;
const HMAC = { name: "HMAC", hash: "SHA-256" } as const;
/** Shorter RSA moduli are refused (NIST SP 800-131A). */
const MIN_RSA_BITS = 2048;
/** ES256 signatures are r || s, 32 bytes each (RFC 7518 3.4), the form WebCrypto verifies. */
const ES256_SIGNATURE_BYTES = 64;

export function importHmacSecret(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), HMAC, false, ["verify"]);
}

/**
 * Whether a JWKS entry may verify `alg`: right key type and curve, meant for
 * signatures, and not pinned to another algorithm.
 */
export function jwkFits(jwk: JsonWebKey & { kid?: unknown; use?: unknown }, alg: PublicKeyAlgorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) return false;
  if (alg === "RS256") return jwk.kty === "RSA" && typeof jwk.n === "string" && typeof jwk.e === "string";
  return jwk.kty === "EC" && jwk.crv === "P-256" && typeof jwk.x === "string" && typeof jwk.y === "string";
}

/**
 * Imports the public part of a JWKS entry only: an entry that also carries
 * private members (a JWKS published by mistake) still yields a verify key.
 * Rejects (throws) on a key WebCrypto refuses or an RSA key that is too short.
 */
export async function importPublicJwk(jwk: JsonWebKey, alg: PublicKeyAlgorithm): Promise<CryptoKey> {
  if (alg === "RS256") {
    const key = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e }, RSA, false, ["verify"]);
    const bits = (key.algorithm as CryptoKeyRsaKeyAlgorithm).modulusLength;
    if (bits < MIN_RSA_BITS) throw new Error(`RSA key of ${bits} bits is too short`);
    return key;
  }
  return crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, ECDSA_IMPORT, false, ["verify"]);
}

export async function verifySignature(
  alg: SignatureAlgorithm,
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  switch (alg) {
    case "HS256":
      return crypto.subtle.verify(HMAC, key, signature, data);
    case "RS256":
      return crypto.subtle.verify(RSA, key, signature, data);
    case "ES256":
      if (signature.length !== ES256_SIGNATURE_BYTES) return false;
      return crypto.subtle.verify(ECDSA_VERIFY, key, signature, data);
  }
}
