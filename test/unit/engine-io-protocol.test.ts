import { describe, expect, it } from "vitest";
import { EncodedMessage } from "../../src/engine.io/frames";
import {
  decodeClientPacket,
  decodePollingPayload,
  encodeBinaryForPolling,
  encodePollingPayload,
  EngineError,
  openPacket,
  parseEngineRequest,
} from "../../src/engine.io/protocol";

const url = (query: string) => new URL("http://h/socket.io/?" + query);

describe("parseEngineRequest", () => {
  it("accepts a polling handshake and a websocket handshake", () => {
    expect(parseEngineRequest(url("EIO=4&transport=polling"), "GET", false)).toEqual({ transport: "polling", sid: null });
    expect(parseEngineRequest(url("EIO=4&transport=websocket"), "GET", true)).toEqual({ transport: "websocket", sid: null });
    expect(parseEngineRequest(url("EIO=4&transport=polling&sid=abc"), "POST", false)).toEqual({ transport: "polling", sid: "abc" });
  });

  it("refuses a missing or unknown transport", () => {
    expect(parseEngineRequest(url("EIO=4"), "GET", false)).toEqual({ error: EngineError.UNKNOWN_TRANSPORT });
    expect(parseEngineRequest(url("EIO=4&transport=abc"), "GET", false)).toEqual({ error: EngineError.UNKNOWN_TRANSPORT });
  });

  it("refuses other protocol versions", () => {
    for (const q of ["transport=polling", "EIO=3&transport=polling", "EIO=abc&transport=polling"]) {
      expect(parseEngineRequest(url(q), "GET", false)).toEqual({ error: EngineError.UNSUPPORTED_PROTOCOL_VERSION });
    }
  });

  it("refuses a handshake that is not a GET, and methods polling does not use", () => {
    expect(parseEngineRequest(url("EIO=4&transport=polling"), "POST", false)).toEqual({ error: EngineError.BAD_HANDSHAKE_METHOD });
    expect(parseEngineRequest(url("EIO=4&transport=polling"), "PUT", false)).toEqual({ error: EngineError.BAD_HANDSHAKE_METHOD });
    expect(parseEngineRequest(url("EIO=4&transport=polling&sid=x"), "PUT", false)).toEqual({ error: EngineError.BAD_REQUEST });
  });

  it("refuses a websocket transport without an upgrade", () => {
    expect(parseEngineRequest(url("EIO=4&transport=websocket"), "GET", false)).toEqual({ error: EngineError.BAD_REQUEST });
  });
});

describe("openPacket", () => {
  const options = { pingInterval: 300, pingTimeout: 200, maxPayload: 1_000_000 };

  it("has exactly the five fields of the spec", () => {
    const packet = openPacket("sid1", "polling", options);
    expect(packet[0]).toBe("0");
    expect(JSON.parse(packet.slice(1))).toEqual({ sid: "sid1", upgrades: ["websocket"], ...options });
  });

  it("offers no upgrade over websocket", () => {
    expect(JSON.parse(openPacket("s", "websocket", options).slice(1)).upgrades).toEqual([]);
  });
});

describe("polling payloads", () => {
  it("decodes text and base64 binary records", () => {
    const packets = decodePollingPayload("4hello\x1ebAQIDBA==\x1e3\x1e1")!;
    expect(packets.map((p) => p.type)).toEqual(["message", "message", "pong", "close"]);
    expect(packets[0].data).toBe("hello");
    expect(new Uint8Array(packets[1].data as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  it("rejects a payload with any malformed record", () => {
    for (const body of ["abc", "", "4a\x1e", "4a\x1ex", "b!!!", "bAQI", "9"]) expect(decodePollingPayload(body)).toBeNull();
  });

  it("encodes binary as base64 with the b prefix", () => {
    expect(encodeBinaryForPolling(new Uint8Array([1, 2, 3, 4]))).toBe("bAQIDBA==");
    expect(encodeBinaryForPolling(new Uint8Array([]).buffer)).toBe("b");
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const decoded = decodeClientPacket(encodeBinaryForPolling(big))!;
    expect(new Uint8Array(decoded.data as ArrayBuffer)).toEqual(big);
  });

  it("joins records with the record separator", () => {
    expect(encodePollingPayload(["4a", "4b"])).toBe("4a\x1e4b");
  });
});

describe("decodeClientPacket", () => {
  it("decodes every packet type a client sends", () => {
    expect(decodeClientPacket("1")).toEqual({ type: "close" });
    expect(decodeClientPacket("2probe")).toEqual({ type: "ping", data: "probe" });
    expect(decodeClientPacket("3")).toEqual({ type: "pong" });
    expect(decodeClientPacket("4x")).toEqual({ type: "message", data: "x" });
    expect(decodeClientPacket("5")).toEqual({ type: "upgrade" });
    expect(decodeClientPacket("6")).toEqual({ type: "noop" });
    expect(decodeClientPacket(new Uint8Array([9]).buffer)).toEqual({ type: "message", data: new Uint8Array([9]).buffer });
  });

  it("returns null for garbage", () => {
    for (const raw of ["", "a", "7", "x4"]) expect(decodeClientPacket(raw)).toBeNull();
  });
});

describe("EncodedMessage", () => {
  it("encodes text once for both transports and binary per transport", () => {
    const message = new EncodedMessage(['51-["e",{"_placeholder":true,"num":0}]', new Uint8Array([1, 2])]);
    expect(message.webSocketFrames[0]).toBe('451-["e",{"_placeholder":true,"num":0}]');
    expect(message.webSocketFrames[1]).toEqual(new Uint8Array([1, 2]));
    expect(message.pollingFrames).toEqual(['451-["e",{"_placeholder":true,"num":0}]', "bAQI="]);
    expect(message.pollingFrames).toBe(message.pollingFrames); // computed once
  });
});
