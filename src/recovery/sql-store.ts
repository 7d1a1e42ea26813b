import { EncodedMessage } from "../engine.io/frames";
import type { EncodedParts } from "../socket.io/protocol";
import type { ConnectionStateRecovery, RecoveryStore, RestoredSession, SavedSession } from "../server/recovery";
import { formatOffset, nextSequence, packParts, parseOffset, selects, storedSize, unpackParts } from "./encoding";

/** The log keeps at most this many packets per room object, the oldest dropped first… */
export const MAX_LOGGED_PACKETS = 100_000;
/** …and at most this many bytes of them. */
export const MAX_LOGGED_BYTES = 64 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS recovery_packets (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  nsp TEXT NOT NULL,
  rooms TEXT NOT NULL,
  except_rooms TEXT NOT NULL,
  size INTEGER NOT NULL,
  text TEXT NOT NULL,
  binary BLOB
);
CREATE TABLE IF NOT EXISTS recovery_sessions (
  pid TEXT PRIMARY KEY,
  sid TEXT NOT NULL,
  nsp TEXT NOT NULL,
  rooms TEXT NOT NULL,
  data TEXT,
  disconnected_at INTEGER NOT NULL
);`;

interface PacketRow extends Record<string, SqlStorageValue> {
  seq: number;
  rooms: string;
  except_rooms: string;
  text: string;
  binary: ArrayBuffer | null;
}

interface SessionRow extends Record<string, SqlStorageValue> {
  pid: string;
  sid: string;
  nsp: string;
  rooms: string;
  data: string | null;
  disconnected_at: number;
}

/**
 * Connection state recovery in the room object's SQLite storage: it survives
 * eviction and a restart of the runtime. A logged packet is one row (its
 * encoded bytes, its namespace and selection), written once per broadcast; a
 * disconnected socket is one row until it comes back or its window passes.
 */
export class SqlRecoveryStore implements RecoveryStore {
  #lastSequence: number | undefined;
  /** Packets logged since the last prune: only then are the caps (a scan of the log) checked. */
  #loggedSincePrune = false;

  constructor(
    private readonly sql: SqlStorage,
    readonly settings: ConnectionStateRecovery,
    private readonly now: () => number = Date.now,
    private readonly caps = { packets: MAX_LOGGED_PACKETS, bytes: MAX_LOGGED_BYTES },
  ) {
    sql.exec(SCHEMA);
  }

  log(nsp: string, rooms: ReadonlySet<string>, except: ReadonlySet<string>, encode: (offset: string) => EncodedParts): EncodedMessage {
    const now = this.now();
    this.#lastSequence ??= this.sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM recovery_packets").one().seq ?? 0;
    const sequence = nextSequence(this.#lastSequence, now);
    this.#lastSequence = sequence;
    const parts = encode(formatOffset(sequence));
    const stored = packParts(parts);
    this.sql.exec(
      "INSERT INTO recovery_packets (seq, at, nsp, rooms, except_rooms, size, text, binary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      sequence,
      now,
      nsp,
      JSON.stringify([...rooms]),
      JSON.stringify([...except]),
      storedSize(stored),
      stored.text,
      stored.binary,
    );
    this.#loggedSincePrune = true;
    return new EncodedMessage(parts);
  }

  saveSession(session: SavedSession): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO recovery_sessions (pid, sid, nsp, rooms, data, disconnected_at) VALUES (?, ?, ?, ?, ?, ?)",
      session.pid,
      session.sid,
      session.nsp,
      JSON.stringify(session.rooms),
      session.data === undefined ? null : JSON.stringify(session.data),
      this.now(),
    );
  }

  restoreSession(pid: string, offset: string, nsp: string): RestoredSession | null {
    const row = this.sql.exec<SessionRow>("SELECT * FROM recovery_sessions WHERE pid = ?", pid).toArray()[0];
    if (row === undefined || row.nsp !== nsp) return null;
    // Taken whatever follows: a session is restored at most once.
    this.sql.exec("DELETE FROM recovery_sessions WHERE pid = ?", pid);
    if (row.disconnected_at + this.settings.maxDisconnectionDuration < this.now()) return null;
    const sequence = parseOffset(offset);
    if (sequence === null) return null;
    // The offset must still be in the log, or packets between it and the oldest one kept are gone.
    const known = this.sql.exec("SELECT 1 FROM recovery_packets WHERE seq = ?", sequence).toArray().length > 0;
    if (!known) return null;
    const rooms = JSON.parse(row.rooms) as string[];
    return {
      pid: row.pid,
      sid: row.sid,
      nsp: row.nsp,
      rooms,
      data: row.data === null ? undefined : JSON.parse(row.data),
      missedPackets: () => this.packetsAfter(sequence, nsp, rooms),
    };
  }

  private packetsAfter(sequence: number, nsp: string, sessionRooms: readonly string[]): EncodedMessage[] {
    const missed: EncodedMessage[] = [];
    const packets = this.sql.exec<PacketRow>(
      "SELECT seq, rooms, except_rooms, text, binary FROM recovery_packets WHERE seq > ? AND nsp = ? ORDER BY seq",
      sequence,
      nsp,
    );
    for (const packet of packets) {
      if (!selects(sessionRooms, JSON.parse(packet.rooms), JSON.parse(packet.except_rooms))) continue;
      const binary = packet.binary === null ? null : new Uint8Array(packet.binary);
      missed.push(new EncodedMessage(unpackParts({ text: packet.text, binary })));
    }
    return missed;
  }

  /**
   * Drops what has outlived the window, and the oldest packets past the caps;
   * with no socket connected and no session kept, nobody can need any packet.
   * Returns when the oldest kept session expires (null: none kept), which is
   * when a room without sockets needs its next prune.
   */
  prune(hasSockets: boolean): number | null {
    const cutoff = this.now() - this.settings.maxDisconnectionDuration;
    this.sql.exec("DELETE FROM recovery_sessions WHERE disconnected_at < ?", cutoff);
    const oldest = this.sql.exec<{ at: number | null }>("SELECT min(disconnected_at) AS at FROM recovery_sessions").one().at;
    if (oldest === null && !hasSockets) {
      this.sql.exec("DELETE FROM recovery_packets");
      this.#loggedSincePrune = false;
      return null;
    }
    // Sequence numbers grow with time (see nextSequence): the expired packets are a prefix of the table.
    this.sql.exec("DELETE FROM recovery_packets WHERE seq < ?", cutoff * 1000);
    if (this.#loggedSincePrune) {
      this.#loggedSincePrune = false;
      this.enforceCaps();
    }
    return oldest === null ? null : oldest + this.settings.maxDisconnectionDuration;
  }

  private enforceCaps(): void {
    const { count, bytes } = this.sql
      .exec<{ count: number; bytes: number | null }>("SELECT count(*) AS count, sum(size) AS bytes FROM recovery_packets")
      .one();
    if (count <= this.caps.packets && (bytes ?? 0) <= this.caps.bytes) return;
    // Walk from the newest packet back until a cap is reached; everything older goes.
    let kept = 0;
    let keptBytes = 0;
    let firstKept: number | null = null;
    for (const row of this.sql.exec<{ seq: number; size: number }>("SELECT seq, size FROM recovery_packets ORDER BY seq DESC")) {
      if (kept + 1 > this.caps.packets || keptBytes + row.size > this.caps.bytes) break;
      kept++;
      keptBytes += row.size;
      firstKept = row.seq;
    }
    this.sql.exec("DELETE FROM recovery_packets WHERE seq < ?", firstKept ?? Number.MAX_SAFE_INTEGER);
  }
}
