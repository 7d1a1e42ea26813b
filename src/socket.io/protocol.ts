/**
 * Socket.IO v5 protocol on top of socket.io-parser: pure functions, no I/O.
 * Spec: socket.io repository, docs/socket.io-protocol/v5-current.md.
 */
import { Decoder, Encoder, PacketType, type Packet } from "socket.io-parser";

export { PacketType, type Packet };

/** Event names a server may not emit (the client uses them for its own events). */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

export type Binary = ArrayBuffer | ArrayBufferView;
/** A packet as Engine.IO message parts: the text header, then its binary attachments. */
export type EncodedParts = readonly (string | Binary)[];

const encoder = new Encoder();

export function encode(packet: Packet): EncodedParts {
  return encoder.encode(packet) as EncodedParts;
}

export function eventPacket(nsp: string, event: string, args: readonly unknown[], id?: number): Packet {
  const packet: Packet = { type: PacketType.EVENT, nsp, data: [event, ...args] };
  if (id !== undefined) packet.id = id;
  return packet;
}

export function ackPacket(nsp: string, id: number, args: readonly unknown[]): Packet {
  return { type: PacketType.ACK, nsp, id, data: [...args] };
}

/** The CONNECT reply; with connection state recovery it carries the private session id too. */
export function connectPacket(nsp: string, socketId: string, pid?: string): Packet {
  return { type: PacketType.CONNECT, nsp, data: pid === undefined ? { sid: socketId } : { sid: socketId, pid } };
}

export function connectErrorPacket(nsp: string, message: string, data?: unknown): Packet {
  return { type: PacketType.CONNECT_ERROR, nsp, data: data === undefined ? { message } : { message, data } };
}

export function disconnectPacket(nsp: string): Packet {
  return { type: PacketType.DISCONNECT, nsp };
}

/** Maximum binary attachments a client packet may announce. */
export const MAX_ATTACHMENTS = 10;

export function createDecoder(): Decoder {
  return new Decoder({ maxAttachments: MAX_ATTACHMENTS });
}

/**
 * Checks what socket.io-parser leaves to the server: a client may only send
 * CONNECT, DISCONNECT, EVENT and ACK, an EVENT must name a string event, and
 * namespaces start with "/". Returns why the packet is invalid, or null.
 */
export function invalidClientPacket(packet: Packet): string | null {
  if (typeof packet.nsp !== "string" || !packet.nsp.startsWith("/")) return "invalid namespace";
  if (packet.id !== undefined && !(Number.isSafeInteger(packet.id) && packet.id >= 0)) return "invalid ack id";
  switch (packet.type) {
    case PacketType.CONNECT:
    case PacketType.DISCONNECT:
      return null;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      if (!Array.isArray(packet.data) || typeof packet.data[0] !== "string") return "invalid event";
      return null;
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      if (packet.id === undefined || !Array.isArray(packet.data)) return "invalid ack";
      return null;
    default:
      return "unexpected packet type";
  }
}

type BufferConstructor = { from(buffer: ArrayBuffer, byteOffset?: number, length?: number): Uint8Array };
/** Node's Buffer, a global under the Workers `nodejs_compat` flag (null without it), looked up at the first binary packet. */
let NodeBuffer: BufferConstructor | null | undefined;

/**
 * Turns the binary values of a decoded packet (ArrayBuffers as received) into
 * Node Buffers in place, as a socket.io server on Node hands them to handlers,
 * so `Buffer.isBuffer(arg)` holds. No copy: each Buffer views the received
 * bytes. Without `nodejs_compat` they stay ArrayBuffers. Only for binary packets.
 */
export function binaryAsBuffers(value: unknown): unknown {
  NodeBuffer ??= (globalThis as { Buffer?: BufferConstructor }).Buffer ?? null;
  if (NodeBuffer === null) return value;
  return toBuffers(value, NodeBuffer, 0);
}

function toBuffers(value: unknown, B: BufferConstructor, depth: number): unknown {
  if (value instanceof ArrayBuffer) return B.from(value);
  if (ArrayBuffer.isView(value)) return B.from(value.buffer as ArrayBuffer, value.byteOffset, value.byteLength);
  // socket.io-parser has already bounded the nesting it accepts; this guard only stops a cycle.
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = toBuffers(value[i], B, depth + 1);
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = toBuffers(record[key], B, depth + 1);
  }
  return value;
}
