/**
 * Client authentication for CONNECT: JWT verification (HS256, RS256, ES256
 * over WebCrypto), access claims per room and namespace, and a custom hook.
 * See docs/auth-and-webhooks.md.
 */
export { matchesName } from "./access";
export type { SignatureAlgorithm } from "./algorithms";
export { authorizeConnect, tokenFromAuth, type ConnectAuthInput, type ConnectAuthResult } from "./authorize";
export { readAuthConfig, DEFAULT_CLOCK_SKEW_SECONDS, type AuthConfig } from "./config";
export { AuthError, type AuthErrorCode } from "./errors";
export { runAuthHook, type AuthHook, type AuthHookContext } from "./hook";
export { JwksCache, sharedJwksCache, type Fetcher, type JwksCacheOptions } from "./jwks";
export { MAX_TOKEN_LENGTH, type JwtClaims, type JwtHeader } from "./token";
export { verifyJwt, type VerifyOptions } from "./verify";
