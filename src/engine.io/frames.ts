import { encodeBinaryForPolling, MESSAGE, type Binary } from "./protocol";

/**
 * One Engine.IO message (text or binary parts) encoded once for both transports,
 * so a broadcast costs one encoding however many sockets receive it.
 */
export class EncodedMessage {
  /** Frames as sent over a WebSocket: "4" + text, binary parts raw. */
  readonly webSocketFrames: readonly (string | Binary)[];
  private pollingRecords?: readonly string[];
  private bytes = -1;

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

  /**
   * Size on the wire over a WebSocket (text frames in UTF-16 units, exact for
   * ASCII), for size checks and the room's byte counts; worked out once.
   */
  get byteLength(): number {
    if (this.bytes < 0) {
      let n = 0;
      for (const frame of this.webSocketFrames) n += typeof frame === "string" ? frame.length : frame.byteLength;
      this.bytes = n;
    }
    return this.bytes;
  }
}
