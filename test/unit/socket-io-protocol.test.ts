import { describe, expect, it } from "vitest";
import {
  ackPacket,
  connectErrorPacket,
  connectPacket,
  createDecoder,
  encode,
  eventPacket,
  invalidClientPacket,
  MAX_ATTACHMENTS,
  PacketType,
  type Packet,
} from "../../src/socket.io/protocol";

function decodeAll(frames: (string | ArrayBuffer)[]): Packet[] {
  const decoder = createDecoder();
  const packets: Packet[] = [];
  decoder.on("decoded", (p: Packet) => packets.push(p));
  for (const frame of frames) decoder.add(frame);
  return packets;
}

describe("encoding", () => {
  it("encodes the packets a server sends as the spec shows", () => {
    expect(encode(connectPacket("/", "abc"))).toEqual(['0{"sid":"abc"}']);
    expect(encode(connectPacket("/admin", "abc"))).toEqual(['0/admin,{"sid":"abc"}']);
    expect(encode(connectErrorPacket("/random", "Invalid namespace"))).toEqual(['4/random,{"message":"Invalid namespace"}']);
    expect(encode(eventPacket("/", "hello", [1, "2", { 3: [true] }]))).toEqual(['2["hello",1,"2",{"3":[true]}]']);
    expect(encode(eventPacket("/", "q", [], 12))).toEqual(['212["q"]']);
    expect(encode(ackPacket("/", 456, [1, "2"]))).toEqual(['3456[1,"2"]']);
  });

  it("turns binary arguments into attachments", () => {
    const parts = encode(eventPacket("/", "file", [new Uint8Array([1, 2, 3]), { nested: new Uint8Array([4]) }]));
    expect(parts[0]).toBe('52-["file",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]');
    expect(parts.length).toBe(3);
  });
});

describe("decoding and validation", () => {
  it("reassembles a binary event from its frames", () => {
    const [packet] = decodeAll(['52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', new Uint8Array([1]).buffer, new Uint8Array([2]).buffer]);
    expect(packet.type).toBe(PacketType.EVENT); // the parser reports the reassembled packet as an EVENT
    expect(invalidClientPacket(packet)).toBeNull();
    expect(new Uint8Array(packet.data[1])).toEqual(new Uint8Array([1]));
  });

  it("throws on the malformed packets of the protocol test suite", () => {
    for (const raw of ["abc", "2{}", '2abc["m"]', "7", '2["connect"]']) {
      expect(() => decodeAll([raw])).toThrow();
    }
    expect(() => decodeAll([new Uint8Array([1]).buffer])).toThrow();
    expect(() => decodeAll([`5${MAX_ATTACHMENTS + 1}-["m"]`])).toThrow();
  });

  it("accepts what a client may send and nothing else", () => {
    const ok: Packet[] = [
      { type: PacketType.CONNECT, nsp: "/" },
      { type: PacketType.CONNECT, nsp: "/x", data: { token: "t" } },
      { type: PacketType.DISCONNECT, nsp: "/" },
      { type: PacketType.EVENT, nsp: "/", data: ["e", 1] },
      { type: PacketType.ACK, nsp: "/", id: 1, data: [] },
    ];
    for (const p of ok) expect(invalidClientPacket(p)).toBeNull();
    const bad: Packet[] = [
      { type: PacketType.EVENT, nsp: "/", data: undefined },
      { type: PacketType.EVENT, nsp: "/", data: [1] },
      { type: PacketType.ACK, nsp: "/", data: [] },
      { type: PacketType.CONNECT_ERROR, nsp: "/", data: { message: "x" } },
      { type: PacketType.EVENT, nsp: "nope", data: ["e"] },
    ];
    for (const p of bad) expect(invalidClientPacket(p)).not.toBeNull();
  });
});
