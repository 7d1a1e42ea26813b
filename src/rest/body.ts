import { ApiError } from "./errors";
import { MAX_BODY_BYTES } from "./limits";
import { readAtMost } from "../http/read-limited";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The request body parsed as a JSON object. Refuses bodies over `limit` bytes
 * (413) before reading them when Content-Length says so, and while reading
 * otherwise, so an oversized body is never buffered whole. An empty body reads
 * as `{}` when `emptyIsObject` (operations whose fields are all optional).
 */
export async function readJsonObject(
  request: Request,
  { limit = MAX_BODY_BYTES, emptyIsObject = false }: { limit?: number; emptyIsObject?: boolean } = {},
): Promise<Record<string, unknown>> {
  const bytes = await readAtMost(request, limit);
  if (bytes === null) throw tooLarge(limit);

  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new ApiError(400, "malformed_json", "The body is not valid UTF-8");
  }
  if (text.trim() === "") {
    if (emptyIsObject) return {};
    throw new ApiError(400, "malformed_json", "The body is empty; send a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "malformed_json", `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "invalid_request", "The body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `The body is larger than ${limit} bytes`);
}
