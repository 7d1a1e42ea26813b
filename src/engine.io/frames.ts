import { encodeBinaryForPolling, MESSAGE, type Binary } from "./protocol";

/**
 * One Engine.IO message (text or binary parts) encoded once for both transports,
 * so a broadcast costs one encoding however many sockets receive it.
 */
export class EncodedMessage {
  /** Frames as sent over a WebSocket: "4" + text, binary parts raw. */
  readonly webSocketFrames: readonly (string | Binary)[];
  private pollingRecords?: readonly string[];

  constructor(parts: readonly (string | Binary)[]) {
    this.webSocketFrames = parts.map((part) => (typeof part === "string" ? MESSAGE + part : part));
  }

  /** Records of a polling payload: binary parts as base64, computed on first use. */
  get pollingFrames(): readonly string[] {
    this.pollingRecords ??= this.webSocketFrames.map((frame) =>
      typeof frame === "string" ? frame : encodeBinaryForPolling(frame),
    );
    return this.pollingRecords;
  }

  /** Bytes on the wire over a WebSocket, for size checks. */
  get byteLength(): number {
    let n = 0;
    for (const frame of this.webSocketFrames) n += typeof frame === "string" ? frame.length : frame.byteLength;
    return n;
  }
}
