/**
 * Reads a request's or a response's body, refusing it as soon as it passes
 * `limit` bytes: an oversized body is never buffered whole. Returns null when
 * it is too large.
 */
export async function readAtMost(message: Request | Response, limit: number): Promise<Uint8Array | null> {
  const declared = message.headers.get("Content-Length");
  if (declared !== null && Number(declared) > limit) return null;
  if (message.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = message.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
