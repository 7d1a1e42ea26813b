const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Bytes of an unpadded base64url string (RFC 7515 section 2), or null when it is not one. */
export function base64UrlToBytes(text: string): Uint8Array | null {
  // A length of 1 mod 4 cannot come from any byte sequence.
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
