import { IDEMPOTENCY_WINDOW_MS } from "./limits";

/** What a room remembers of an emit published with an Idempotency-Key. */
export interface RememberedEmit {
  fingerprint: string;
  sockets: number;
}

const TABLE = "rest_idempotency_keys";
/** Expired keys are deleted at most this often, when a new key is written. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Idempotency keys of one room, in the room object's SQLite storage, each
 * remembered for `windowMs`. Synchronous (the storage is local to the object),
 * so looking a key up, delivering and recording cannot interleave with another
 * request. The table is created by the first key only: rooms that never see
 * one keep no state for it.
 */
export class IdempotencyLog {
  private tableExists: boolean | undefined;
  private lastPrune = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number = Date.now,
    private readonly windowMs: number = IDEMPOTENCY_WINDOW_MS,
  ) {}

  find(key: string): RememberedEmit | null {
    if (!this.hasTable()) return null;
    const rows = this.sql
      .exec<{ fingerprint: string; sockets: number }>(
        `SELECT fingerprint, sockets FROM ${TABLE} WHERE key = ? AND expires_at > ?`,
        key,
        this.now(),
      )
      .toArray();
    return rows[0] ?? null;
  }

  remember(key: string, emit: RememberedEmit): void {
    this.createTable();
    const now = this.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.sql.exec(`DELETE FROM ${TABLE} WHERE expires_at <= ?`, now);
    }
    this.sql.exec(
      `INSERT OR REPLACE INTO ${TABLE} (key, fingerprint, sockets, expires_at) VALUES (?, ?, ?, ?)`,
      key,
      emit.fingerprint,
      emit.sockets,
      now + this.windowMs,
    );
  }

  private hasTable(): boolean {
    this.tableExists ??=
      this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, TABLE).toArray().length > 0;
    return this.tableExists;
  }

  private createTable(): void {
    if (this.hasTable()) return;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        sockets INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      )`,
    );
    this.sql.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_expires_at ON ${TABLE} (expires_at)`);
    this.tableExists = true;
  }
}
