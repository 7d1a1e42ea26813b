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

describe("SQLite recovery store: live sessions", () => {
  const live = (pid: string, rooms: string[] = [pid.replace("p", "s")]) => ({ pid, sid: pid.replace("p", "s"), nsp: "/", rooms, data: { n: 1 } });
  const rows = (state: DurableObjectState) =>
    state.storage.sql.exec<{ pid: string; rooms: string; data: string | null; disconnected_at: number | null; websocket: number }>(
      "SELECT pid, rooms, data, disconnected_at, websocket FROM recovery_sessions ORDER BY pid",
    ).toArray();

  it("keeps a connected socket's row live and current, and cannot restore it while it is", async () => {
    await runInDurableObject(relayRoom("recovery-live-1"), async (_room, state) => {
      let now = 4_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], "before");
      store.saveLive(live("p1"), false);
      store.updateLive("p1", ["s1", "blue"], { n: 2 });
      expect(rows(state)).toEqual([{ pid: "p1", rooms: '["s1","blue"]', data: '{"n":2}', disconnected_at: null, websocket: 0 }]);
      // A reconnect that names a socket still connected gets a new session, as socket.io's.
      expect(store.restoreSession("p1", offsetOf(first), "/")).toBeNull();
      expect(rows(state)).toHaveLength(1);
      // Live rows never expire, and a room with only live rows keeps its packets.
      now += 10 * settings.maxDisconnectionDuration;
      expect(store.prune(true)).toBeNull();
      expect(rows(state)).toHaveLength(1);
      // Leaving for a reason that keeps nothing drops it; updates of a row no longer live change nothing.
      store.dropSession("p1");
      store.updateLive("p1", ["s1"], null);
      expect(rows(state)).toEqual([]);
    });
  });

  it("reconciles at a start: polling sockets gone after an eviction, every socket after a restart", async () => {
    await runInDurableObject(relayRoom("recovery-live-2"), async (_room, state) => {
      let now = 5_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], "before");
      store.saveLive(live("p1"), false); // polling
      store.saveLive(live("p2"), true); // WebSocket from its handshake
      store.saveLive(live("p3"), false);
      store.liveOverWebSocket("p3"); // upgraded
      now += 1000;
      const evicted = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      evicted.reconcile(true);
      expect(rows(state).map((r) => [r.pid, r.disconnected_at])).toEqual([["p1", now], ["p2", null], ["p3", null]]);
      emit(evicted, "/", [], [], "during the outage");
      // The polling client's reconnect recovers what was sent since its offset.
      const back = evicted.restoreSession("p1", offsetOf(first), "/")!;
      expect(back).toMatchObject({ sid: "s1", rooms: ["s1"], data: { n: 1 } });
      expect(texts(back.missedPackets())).toEqual([expect.stringContaining('"during the outage"')]);
      now += 1000;
      const restarted = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      restarted.reconcile(false); // no WebSocket survived: every live row, the restored p1 included
      expect(rows(state).map((r) => [r.pid, r.disconnected_at])).toEqual([["p1", now], ["p2", now], ["p3", now]]);
      // The window runs from then, and pruning applies as to any saved session.
      now += settings.maxDisconnectionDuration + 1;
      expect(restarted.prune(false)).toBeNull();
      expect(rows(state)).toEqual([]);
    });
  });

  it("makes a restored session live instead of deleting it: a runtime lost during the replay loses nothing", async () => {
    await runInDurableObject(relayRoom("recovery-live-3"), async (_room, state) => {
      let now = 6_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], "seen");
      store.saveSession(live("p1"));
      emit(store, "/", [], [], "missed");
      expect(store.restoreSession("p1", offsetOf(first), "/")).not.toBeNull();
      expect(rows(state)[0].disconnected_at).toBeNull();
      expect(store.restoreSession("p1", offsetOf(first), "/")).toBeNull(); // taken: not twice at once
      // The runtime stops before the replay reached the client; the next instance finds the row live.
      now += 500;
      const next = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      next.reconcile(false);
      const again = next.restoreSession("p1", offsetOf(first), "/")!;
      expect(texts(again.missedPackets())).toEqual([expect.stringContaining('"missed"')]);
    });
  });

  it("gives a taken session back when its CONNECT did not complete, or drops it when it was refused", async () => {
    await runInDurableObject(relayRoom("recovery-live-4"), async (_room, state) => {
      const now = 7_000_000;
      const store = new SqlRecoveryStore(state.storage.sql, settings, () => now);
      const first = emit(store, "/", [], [], "seen");
      store.saveSession(live("p1"));
      store.restoreSession("p1", offsetOf(first), "/")!.release(true); // the connection went meanwhile
      expect(rows(state)[0].disconnected_at).toBe(now);
      store.restoreSession("p1", offsetOf(first), "/")!.release(false); // a middleware refused it
      expect(rows(state)).toEqual([]);
      // A session that cannot be honoured (offset no longer in the log) is gone at once.
      store.saveSession(live("p2"));
      expect(store.restoreSession("p2", formatOffset(1), "/")).toBeNull();
      expect(rows(state)).toEqual([]);
    });
  });

  it("migrates the sessions table of earlier versions (disconnected sessions only) and keeps its rows", async () => {
    await runInDurableObject(relayRoom("recovery-live-5"), async (_room, state) => {
      const sql = state.storage.sql;
      sql.exec(`CREATE TABLE recovery_sessions (pid TEXT PRIMARY KEY, sid TEXT NOT NULL, nsp TEXT NOT NULL, rooms TEXT NOT NULL,
        data TEXT, disconnected_at INTEGER NOT NULL)`);
      sql.exec("INSERT INTO recovery_sessions VALUES ('p0', 's0', '/', '[\"s0\"]', NULL, 123)");
      const store = new SqlRecoveryStore(sql, settings, () => 1000);
      store.saveLive(live("p1"), true);
      expect(rows(state)).toEqual([
        { pid: "p0", rooms: '["s0"]', data: null, disconnected_at: 123, websocket: 0 },
        { pid: "p1", rooms: '["s1"]', data: '{"n":1}', disconnected_at: null, websocket: 1 },
      ]);
      new SqlRecoveryStore(sql, settings, () => 1000); // migrated once: a second start keeps the rows
      expect(rows(state)).toHaveLength(2);
    });
  });
});
