/**
 * Errors of the REST API. Every refusal is `{ "error": { "code", "message" } }`
 * with an HTTP status; `code` is stable (clients branch on it), `message` is for people.
 */
export type ApiErrorCode =
  | "malformed_json"
  | "invalid_request"
  | "reserved_event"
  | "invalid_room"
  | "invalid_idempotency_key"
  | "payload_too_large"
  | "missing_api_key"
  | "invalid_api_key"
  | "api_key_not_configured"
  | "forbidden_origin"
  | "not_found"
  | "method_not_allowed"
  | "idempotency_key_reused"
  | "room_unavailable"
  | "internal_error";

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** A refusal with its status, thrown anywhere in a handler and answered by the API's error handler. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** Extra response headers (WWW-Authenticate, Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  get body(): ApiErrorBody {
    return { error: { code: this.code, message: this.message } };
  }

  toResponse(): Response {
    return Response.json(this.body, { status: this.status, headers: this.headers });
  }
}

/** A request body or query that does not have the documented shape (400). */
export function invalid(message: string): ApiError {
  return new ApiError(400, "invalid_request", message);
}
