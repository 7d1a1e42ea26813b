/**
 * The emitter SDK inside workerd (a Worker publishing through a service-binding
 * style fetch), and the compile-time checks of its typed events.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Emitter, EmitterError } from "../../src/sdk";
import { connectSocketIO, worker } from "./support/clients";

interface ServerToClientEvents {
  chat: (from: string, text: string) => void;
  file: (name: string, bytes: Uint8Array) => void;
  tick: () => void;
}

interface SocketData {
  nick?: string;
}

const emitter = new Emitter<ServerToClientEvents, SocketData>({
  url: "http://test",
  apiKey: "test-api-key",
  fetch: (input, init) => SELF.fetch(input, init),
  retryDelay: 1,
});

describe("emitter SDK in a Worker", () => {
  it("emits typed events, binary included", async () => {
    const s = await connectSocketIO(worker, "&room=sdk-unit-1");
    expect(await emitter.room("sdk-unit-1").emit("chat", "ann", "hi")).toEqual({ sockets: 1, replayed: false });
    expect(await s.socket.next()).toBe('42["chat","ann","hi"]');
    await emitter.room("sdk-unit-1").emit("file", "a.bin", new Uint8Array([7, 7]));
    expect(await s.socket.next()).toBe('451-["file","a.bin",{"_placeholder":true,"num":0}]');
    expect([...new Uint8Array((await s.socket.next()) as ArrayBuffer)]).toEqual([7, 7]);
  });

  it("reports refusals as EmitterError without retrying them", async () => {
    let calls = 0;
    const counting = new Emitter({
      url: "http://test",
      apiKey: "test-api-key",
      fetch: (input, init) => (calls++, SELF.fetch(input, init)),
    });
    const error = await counting.room("sdk-unit-2").emit("disconnect").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmitterError);
    expect(error).toMatchObject({ status: 400, code: "reserved_event" });
    expect(calls).toBe(1);
    expect(() => new Emitter({ url: "", apiKey: "k" })).toThrow(/url/);
    await expect(new Emitter({ url: "http://test", apiKey: "k" }).emit("x")).rejects.toThrow(/no room/);
  });

  it("checks event names and arguments at compile time", () => {
    const room = emitter.room("sdk-unit-types");
    // Compile-time only: each line below is a type error, never sent.
    const checks = () => {
      // @ts-expect-error unknown event
      void room.emit("nope");
      // @ts-expect-error wrong argument type
      void room.emit("chat", "ann", 42);
      // @ts-expect-error missing argument
      void room.emit("chat", "ann");
      // @ts-expect-error batch item with wrong arguments
      void emitter.batch([{ room: "r", event: "tick", args: [1] }]);
    };
    expect(typeof checks).toBe("function");
    const untyped = new Emitter({ url: "http://test", apiKey: "k" });
    const anyEvent = () => untyped.room("r").emit("anything", 1, { two: 2 }, new Uint8Array(1));
    expect(typeof anyEvent).toBe("function");
  });
});
