/**
 * Engine.IO v4 protocol: pure functions over packets and requests, no I/O.
 * Spec: socket.io repository, docs/engine.io-protocol/v4-current.md.
 */
import { decodePacket, type Packet, type RawData } from "engine.io-parser";

export const PROTOCOL_VERSION = "4";
/** Separates packets in a polling payload. */
export const RECORD_SEPARATOR = "\x1e";

export type TransportName = "polling" | "websocket";

/** Error codes and messages of the reference server, returned as 400 JSON bodies. */
export const EngineError = {
  UNKNOWN_TRANSPORT: { code: 0, message: "Transport unknown" },
  UNKNOWN_SID: { code: 1, message: "Session ID unknown" },
  BAD_HANDSHAKE_METHOD: { code: 2, message: "Bad handshake method" },
  BAD_REQUEST: { code: 3, message: "Bad request" },
  FORBIDDEN: { code: 4, message: "Forbidden" },
  UNSUPPORTED_PROTOCOL_VERSION: { code: 5, message: "Unsupported protocol version" },
} as const;
export type EngineErrorBody = { code: number; message: string };

export interface EngineRequest {
  transport: TransportName;
  sid: string | null;
}

/** Checks EIO, transport, sid and method of a request; returns the error to answer with, if any. */
export function parseEngineRequest(
  url: URL,
  method: string,
  isWebSocketUpgrade: boolean,
): EngineRequest | { error: EngineErrorBody } {
  const transport = url.searchParams.get("transport");
  if (transport !== "polling" && transport !== "websocket") return { error: EngineError.UNKNOWN_TRANSPORT };
  if (url.searchParams.get("EIO") !== PROTOCOL_VERSION) return { error: EngineError.UNSUPPORTED_PROTOCOL_VERSION };
  const sid = url.searchParams.get("sid");
  if (transport === "websocket") {
    if (method !== "GET" || !isWebSocketUpgrade) return { error: EngineError.BAD_REQUEST };
  } else if (sid === null && method !== "GET") {
    return { error: EngineError.BAD_HANDSHAKE_METHOD };
  } else if (method !== "GET" && method !== "POST") {
    return { error: EngineError.BAD_REQUEST };
  }
  return { transport, sid };
}

export interface HandshakeOptions {
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** The OPEN packet: exactly the five fields the spec lists. */
export function openPacket(sid: string, transport: TransportName, options: HandshakeOptions): string {
  return (
    "0" +
    JSON.stringify({
      sid,
      upgrades: transport === "polling" ? ["websocket"] : [],
      pingInterval: options.pingInterval,
      pingTimeout: options.pingTimeout,
      maxPayload: options.maxPayload,
    })
  );
}

/** Type digits of the packets the server sends as plain strings. */
export const CLOSE = "1";
export const PING = "2";
export const PONG = "3";
export const MESSAGE = "4";
export const NOOP = "6";

export type Binary = ArrayBuffer | ArrayBufferView;

/** A base64 binary packet of a polling payload ("b" prefix). */
export function encodeBinaryForPolling(data: Binary): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return "b" + btoa(binary);
}

/**
 * Decodes one packet (a WebSocket frame or one record of a polling payload).
 * Returns null for anything the spec does not allow a client to send.
 */
export function decodeClientPacket(raw: RawData): Packet | null {
  if (typeof raw === "string" && raw.length === 0) return null;
  if (typeof raw === "string" && raw[0] === "b" && !isBase64(raw.slice(1))) return null;
  const packet = decodePacket(raw, "arraybuffer");
  if (packet.type === "error") return null;
  // A bare "4" decodes without data: it is an empty message (which Socket.IO then refuses), not a message of nothing.
  if (packet.type === "message" && packet.data === undefined) packet.data = "";
  return packet;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function isBase64(s: string): boolean {
  return s.length % 4 === 0 && BASE64.test(s);
}

/** Splits a polling POST body into packets; null when any record is malformed. */
export function decodePollingPayload(body: string): Packet[] | null {
  const packets: Packet[] = [];
  for (const record of body.split(RECORD_SEPARATOR)) {
    const packet = decodeClientPacket(record);
    if (packet === null) return null;
    packets.push(packet);
  }
  return packets;
}

/** Joins encoded packets into one polling response body. */
export function encodePollingPayload(records: readonly string[]): string {
  return records.join(RECORD_SEPARATOR);
}
