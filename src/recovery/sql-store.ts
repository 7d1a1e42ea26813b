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
  disconnected_at INTEGER,
  websocket INTEGER NOT NULL DEFAULT 0
);`;

/** Tables of earlier versions kept only disconnected sockets (disconnected_at NOT NULL, no websocket column). */
const MIGRATE_SESSIONS = `
ALTER TABLE recovery_sessions RENAME TO recovery_sessions_old;
${SCHEMA.slice(SCHEMA.indexOf("CREATE TABLE IF NOT EXISTS recovery_sessions"))}
INSERT INTO recovery_sessions (pid, sid, nsp, rooms, data, disconnected_at)
  SELECT pid, sid, nsp, rooms, data, disconnected_at FROM recovery_sessions_old;
DROP TABLE recovery_sessions_old;`;

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
  /** Null while the socket is connected (a live row, see saveLive). */
  disconnected_at: number | null;
}

/**
 * Connection state recovery in the room object's SQLite storage: it survives
 * eviction and a restart of the runtime. A logged packet is one row (its
 * encoded bytes, its namespace and selection), written once per broadcast; a
 * socket is one row from its CONNECT: live while it is connected (rooms and
 * data kept current), disconnected from when it left (or from when a new
 * instance found it gone, see reconcile) until it comes back or its window passes.
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
    const existing = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'recovery_sessions'").toArray()[0];
    sql.exec(existing !== undefined && !existing.sql.includes("websocket") ? MIGRATE_SESSIONS : SCHEMA);
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
    this.writeSession(session, this.now(), false);
  }

  saveLive(session: SavedSession, webSocket: boolean): void {
    this.writeSession(session, null, webSocket);
  }

  updateLive(pid: string, rooms: readonly string[], data: unknown): void {
    this.sql.exec(
      "UPDATE recovery_sessions SET rooms = ?, data = ? WHERE pid = ? AND disconnected_at IS NULL",
      JSON.stringify(rooms),
      jsonOrNull(data),
      pid,
    );
  }

  liveOverWebSocket(pid: string): void {
    this.sql.exec("UPDATE recovery_sessions SET websocket = 1 WHERE pid = ? AND disconnected_at IS NULL", pid);
  }

  dropSession(pid: string): void {
    this.sql.exec("DELETE FROM recovery_sessions WHERE pid = ?", pid);
  }

  reconcile(webSocketsSurvived: boolean): void {
    // A runtime that restarted kept no WebSocket: every live row's socket is gone. After an eviction the
    // hibernated WebSockets are still open, and their sockets with them: only polling ones are gone.
    this.sql.exec(
      webSocketsSurvived
        ? "UPDATE recovery_sessions SET disconnected_at = ? WHERE disconnected_at IS NULL AND websocket = 0"
        : "UPDATE recovery_sessions SET disconnected_at = ? WHERE disconnected_at IS NULL",
      this.now(),
    );
  }

  restoreSession(pid: string, offset: string, nsp: string): RestoredSession | null {
    const row = this.sql.exec<SessionRow>("SELECT * FROM recovery_sessions WHERE pid = ?", pid).toArray()[0];
    // A live row is a socket still connected (or being restored by another CONNECT): not to be taken twice.
    if (row === undefined || row.nsp !== nsp || row.disconnected_at === null) return null;
    const disconnectedAt = row.disconnected_at;
    const sequence = parseOffset(offset);
    const expired = disconnectedAt + this.settings.maxDisconnectionDuration < this.now();
    // The offset must still be in the log, or packets between it and the oldest one kept are gone.
    const known = !expired && sequence !== null && this.sql.exec("SELECT 1 FROM recovery_packets WHERE seq = ?", sequence).toArray().length > 0;
    if (!known) {
      this.dropSession(pid);
      return null;
    }
    // Taken: live again from now (a runtime that stops before the socket is back leaves it live, and the
    // next instance's reconcile makes it restorable again: the replay is not lost with the runtime).
    this.sql.exec("UPDATE recovery_sessions SET disconnected_at = NULL WHERE pid = ?", pid);
    const rooms = JSON.parse(row.rooms) as string[];
    return {
      pid: row.pid,
      sid: row.sid,
      nsp: row.nsp,
      rooms,
      data: row.data === null ? undefined : JSON.parse(row.data),
      missedPackets: () => this.packetsAfter(sequence!, nsp, rooms),
      release: (keep) =>
        keep
          ? this.sql.exec("UPDATE recovery_sessions SET disconnected_at = ? WHERE pid = ? AND disconnected_at IS NULL", disconnectedAt, pid)
          : this.dropSession(pid),
    };
  }

  private writeSession(session: SavedSession, disconnectedAt: number | null, webSocket: boolean): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO recovery_sessions (pid, sid, nsp, rooms, data, disconnected_at, websocket) VALUES (?, ?, ?, ?, ?, ?, ?)",
      session.pid,
      session.sid,
      session.nsp,
      JSON.stringify(session.rooms),
      jsonOrNull(session.data),
      disconnectedAt,
      webSocket ? 1 : 0,
    );
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
   * with no socket connected and no session kept, nobody can need any packet
   * (live rows never expire: they are sockets still connected).
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

function jsonOrNull(data: unknown): string | null {
  return data === undefined ? null : JSON.stringify(data);
}
