/** Limits of the REST API (documented in README "REST API" and in the OpenAPI description). */

/** Largest request body, in bytes (binary arguments count base64-encoded). */
export const MAX_BODY_BYTES = 1_048_576;
/** Most items in one `POST /v1/emit` batch. */
export const MAX_BATCH_ITEMS = 100;
/** Longest event name, namespace, sub-room or socket id, in characters. */
export const MAX_NAME_LENGTH = 256;
/** Most entries in `rooms`, `except`, `sockets`, `join` or `leave`. */
export const MAX_LIST_ENTRIES = 1_000;
/** Deepest nesting of arrays and objects in event arguments. */
export const MAX_ARGS_DEPTH = 32;
/** Longest Idempotency-Key, in characters (visible ASCII only). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How long a room remembers an Idempotency-Key: a retry within this window is not delivered again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
