import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { formatOffset, nextSequence, packParts, parseOffset, selects, unpackParts } from "../../src/recovery/encoding";
import { SqlRecoveryStore } from "../../src/recovery/sql-store";
import { encode, eventPacket } from "../../src/socket.io/protocol";
import type { EncodedMessage } from "../../src/engine.io/frames";
import { relayRoom } from "./support/clients";

describe("recovery encoding", () => {
  it("makes offsets that never repeat and parse back", () => {
    let last = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      last = nextSequence(last, 1_760_000_000_000); // the same millisecond: still increasing
      const offset = formatOffset(last);
      expect(parseOffset(offset)).toBe(last);
      seen.add(offset);
    }
    expect(seen.size).toBe(2000);
    expect(nextSequence(last, 1_760_000_000_001 + 5)).toBeGreaterThan(last);
  });

  it("refuses offsets that cannot be ours", () => {
    for (const bad of ["", "ABC", "a-b", "zzzzzzzzzzzz", "1.5", " 1"]) expect(parseOffset(bad)).toBeNull();
  });

  it("selects packets as socket.io's session-aware adapter does", () => {
    expect(selects(["id1"], [], [])).toBe(true); // to everyone
    expect(selects(["id1", "blue"], ["blue"], [])).toBe(true);
    expect(selects(["id1"], ["blue"], [])).toBe(false);
    expect(selects(["id1", "blue"], [], ["id1"])).toBe(false); // socket.broadcast from this socket
    expect(selects(["id1", "blue"], ["blue"], ["red"])).toBe(true);
    expect(selects(["id1", "blue", "red"], ["blue"], ["red"])).toBe(false);
  });

  it("packs a packet's binary attachments into one blob and back", () => {
    const parts = encode(eventPacket("/", "file", [new Uint8Array([1, 2, 3]), "x", new Uint8Array(0).buffer, new Uint8Array([9])]));
    expect(parts.length).toBe(4);
    const back = unpackParts(packParts(parts));
    expect(back[0]).toBe(parts[0]);
    expect(back.slice(1).map((b) => [...new Uint8Array(b as ArrayBuffer)])).toEqual([[1, 2, 3], [], [9]]);
    expect(packParts(encode(eventPacket("/", "text", ["only"])))).toEqual({ text: '2["text","only"]', binary: null });
  });
});

const settings = { maxDisconnectionDuration: 10_000, skipMiddlewares: true };
const texts = (messages: EncodedMessage[]) => messages.map((m) => m.webSocketFrames[0]);
const emit = (store: SqlRecoveryStore, nsp: string, rooms: string[], except: string[], value: unknown) =>
  store.log(nsp, new Set(rooms), new Set(except), (offset) => encode(eventPacket(nsp, "msg", [value, offset])));
const offsetOf = (message: EncodedMessage) => JSON.parse((message.webSocketFrames[0] as string).slice(2)).at(-1) as string;

describe("SQLite recovery store", () => {
  it("logs once per broadcast and gives a session back what it missed, in order, once", async () => {
    await runInDurableObject(relayRoom("recovery-store-1"), async (_room, state) => {
      let now = 1_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], "seen");
      expect(texts([first])[0]).toMatch(/^42\["msg","seen","[0-9a-z]+"\]$/);
      store.saveSession({ pid: "p1", sid: "s1", nsp: "/", rooms: ["s1", "blue"], data: { nick: "bo" } });
      now += 1000;
      emit(store, "/", [], [], "all");
      emit(store, "/", ["blue"], [], "blue");
      emit(store, "/", ["red"], [], "red only");
      emit(store, "/", [], ["s1"], "sent by s1");
      emit(store, "/other", [], [], "other namespace");
      emit(store, "/", ["s1"], [], "to s1 itself");
      const restored = store.restoreSession("p1", offsetOf(first), "/")!;
      expect(restored).toMatchObject({ pid: "p1", sid: "s1", rooms: ["s1", "blue"], data: { nick: "bo" } });
      emit(store, "/", [], [], "while connecting");
      expect(texts(restored.missedPackets()).map((t) => JSON.parse((t as string).slice(2))[1])).toEqual([
        "all",
        "blue",
        "to s1 itself",
        "while connecting",
      ]);
      expect(store.restoreSession("p1", offsetOf(first), "/")).toBeNull(); // taken once
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM recovery_packets").one().n).toBe(8);
    });
  });

  it("refuses what cannot be honoured: unknown session, other namespace, unknown offset, window passed", async () => {
    await runInDurableObject(relayRoom("recovery-store-2"), async (_room, state) => {
      let now = 2_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], 1);
      const session = { pid: "p", sid: "s", nsp: "/", rooms: ["s"], data: undefined };
      expect(store.restoreSession("nobody", offsetOf(first), "/")).toBeNull();
      store.saveSession(session);
      expect(store.restoreSession("p", offsetOf(first), "/chat")).toBeNull();
      store.saveSession(session);
      expect(store.restoreSession("p", formatOffset(12345), "/")).toBeNull();
      store.saveSession(session);
      now += settings.maxDisconnectionDuration + 1;
      expect(store.restoreSession("p", offsetOf(first), "/")).toBeNull();
    });
  });

  it("prunes by time, then by caps, and says when an empty room must prune next", async () => {
    await runInDurableObject(relayRoom("recovery-store-3"), async (_room, state) => {
      let now = 3_000_000;
      const caps = { packets: 5, bytes: 1_000_000 };
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now, caps);
      const count = () => state.storage.sql.exec("SELECT count(*) AS n FROM recovery_packets").one().n;
      for (let i = 0; i < 3; i++) emit(store, "/", [], [], `old-${i}`);
      now += 6000;
      store.saveSession({ pid: "p", sid: "s", nsp: "/", rooms: ["s"], data: undefined });
      for (let i = 0; i < 3; i++) emit(store, "/", [], [], `new-${i}`);
      expect(store.prune(true)).toBe(now + settings.maxDisconnectionDuration);
      expect(count()).toBe(5); // the packet cap dropped the oldest
      now += 5000; // the old packets are past the window
      expect(store.prune(true)).toBe(now - 5000 + settings.maxDisconnectionDuration);
      expect(count()).toBe(3);
      now += settings.maxDisconnectionDuration; // the session is past it too
      expect(store.prune(true)).toBeNull();
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM recovery_sessions").one().n).toBe(0);
      emit(store, "/", [], [], "fresh");
      expect(store.prune(false)).toBeNull(); // no socket, no session: nobody can need a packet
      expect(count()).toBe(0);
    });
  });
});
