import { describe, expect, it } from "vitest";
import { base64ToBytes, BinaryJsonError, bytesToBase64, decodeBinaryJson, encodeBinaryJson } from "../../src/rest/binary-json";

describe("binary values in JSON ({$binary: base64})", () => {
  it("decodes wrappers anywhere, and leaves everything else alone", () => {
    const decoded = decodeBinaryJson(["a", 1, null, { b: { $binary: "AQI=" }, c: [{ $binary: "" }] }, { $binaryish: 1 }]) as any[];
    expect(decoded[3].b).toBeInstanceOf(Uint8Array);
    expect([...decoded[3].b]).toEqual([1, 2]);
    expect([...decoded[3].c[0]]).toEqual([]);
    expect(decoded.slice(0, 3)).toEqual(["a", 1, null]);
    expect(decoded[4]).toEqual({ $binaryish: 1 });
  });

  it("accepts base64 with or without padding, and nothing else", () => {
    expect([...base64ToBytes("AQI")!]).toEqual([1, 2]);
    expect([...base64ToBytes("/+8=")!]).toEqual([255, 239]);
    for (const bad of ["A", "AQ=I", "AQ I=", "_-8=", "AQI==="]) expect(base64ToBytes(bad), bad).toBeNull();
  });

  it("refuses malformed wrappers and deep nesting, saying where", () => {
    let error: unknown;
    try {
      decodeBinaryJson({ x: [{ $binary: 5 }] }, "args");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BinaryJsonError);
    expect((error as BinaryJsonError).path).toBe("args.x[0]");
    expect(() => decodeBinaryJson([{ $binary: "AA==", type: "png" }], "args")).toThrow(/^args\[0\]: a binary value/);
    expect(() => decodeBinaryJson([{ $binary: "***" }], "args")).toThrow(/^args\[0\]: "\$binary" is not base64/);
    // Three levels of containers allowed: the fourth is refused.
    expect(decodeBinaryJson([[[1]]], "args", 3)).toEqual([[[1]]]);
    expect(() => decodeBinaryJson([[[[1]]]], "args", 3)).toThrow(/^args\[0\]\[0\]\[0\]: nested too deeply/);
  });

  it("keeps a __proto__ key a plain key", () => {
    const decoded = decodeBinaryJson(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("encodes every kind of binary view, exactly its bytes, and round-trips", () => {
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5]).buffer;
    const value = {
      whole: buffer,
      view: new Uint8Array(buffer, 2, 3),
      words: new Uint16Array([0x0201]),
      data: new DataView(buffer, 4),
      date: new Date(0),
      big: 12n,
      list: [new Uint8Array(0)],
    };
    const encoded = JSON.parse(JSON.stringify(encodeBinaryJson(value)));
    expect(encoded).toEqual({
      whole: { $binary: "AAECAwQF" },
      view: { $binary: "AgME" },
      words: { $binary: "AQI=" },
      data: { $binary: "BAU=" },
      date: "1970-01-01T00:00:00.000Z",
      big: "12",
      list: [{ $binary: "" }],
    });
    expect([...(decodeBinaryJson(encoded) as any).view]).toEqual([2, 3, 4]);
    const large = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(large))).toEqual(large);
  });
});
