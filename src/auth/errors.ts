/** Why a connection was refused; each code has one fixed, client-safe message. */
export type AuthErrorCode =
  | "token_missing"
  | "token_malformed"
  | "token_too_large"
  | "algorithm_not_accepted"
  | "signing_key_unknown"
  | "signing_keys_unavailable"
  | "signature_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issued_in_future"
  | "expiry_missing"
  | "issuer_not_accepted"
  | "audience_not_accepted"
  | "claim_invalid"
  | "room_not_allowed"
  | "namespace_not_allowed"
  | "refused";

/**
 * A refused connection. `message` is written for the client (it becomes the
 * CONNECT_ERROR message): it never contains key material, configuration or
 * the reason a key could not be fetched. Details for operators go to logs.
 */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}
