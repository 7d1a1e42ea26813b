/**
 * What the placement object and the directory partitions of a sharded room keep,
 * in their synchronous SQLite-backed key-value storage (every read and write
 * here is synchronous, so no two calls interleave inside one of them).
 */
import { chooseShard } from "./placement";

const COUNTS = "shard:placement:counts";

/** Connections per shard, as the placement object counts them (handshakes assigned, then the shards' reports). */
export class PlacementStore {
  constructor(private readonly kv: SyncKvStorage) {}

  counts(): number[] {
    return this.kv.get<number[]>(COUNTS) ?? [];
  }

  /** Picks the shard of a new connection and counts it there (one row write per handshake). */
  assign(max: number): number {
    const counts = this.counts();
    const index = chooseShard(counts, max);
    while (counts.length <= index) counts.push(0);
    counts[index]++;
    this.kv.put(COUNTS, counts);
    return index;
  }

  /** A shard's own count of its live connections replaces the estimate. */
  report(shard: number, connections: number): void {
    const counts = this.counts();
    if ((counts[shard] ?? 0) === connections) return;
    while (counts.length <= shard) counts.push(0);
    counts[shard] = connections;
    this.kv.put(COUNTS, counts);
  }

  /** Every shard a connection was ever placed on (those that hold none now keep their counters). */
  placed(): number[] {
    return this.counts().map((_, i) => i);
  }

  /** Shards that hold connections now. */
  active(): number[] {
    return this.counts().flatMap((n, i) => (n > 0 ? [i] : []));
  }
}

interface DirectoryEntry {
  /** Shards holding at least one member of the key. */
  shards: number[];
  /** Shards that cached this entry and must hear of every change. */
  readers: number[];
}

const ENTRY = "shard:dir:";

/**
 * One partition of the membership directory: key (namespace + sub-room) → the
 * shards with members. An entry exists only while some shard holds members, so
 * the partition's size is bounded by live sub-rooms × shards holding them.
 */
export class DirectoryStore {
  constructor(private readonly kv: SyncKvStorage) {}

  /** The shards of a key; a reader (≥ 0) of a non-empty entry is told of its changes from now on. */
  lookup(key: string, reader: number): number[] {
    const entry = this.kv.get<DirectoryEntry>(ENTRY + key);
    if (entry === undefined) return [];
    if (reader >= 0 && !entry.readers.includes(reader)) {
      entry.readers.push(reader);
      this.kv.put(ENTRY + key, entry);
    }
    return entry.shards;
  }

  /** Records that `shard` holds members of `key` or no longer does; returns the readers to tell (none: nothing changed). */
  update(key: string, shard: number, present: boolean): number[] {
    const entry = this.kv.get<DirectoryEntry>(ENTRY + key) ?? { shards: [], readers: [] };
    const has = entry.shards.includes(shard);
    if (has === present) return [];
    entry.shards = present ? [...entry.shards, shard] : entry.shards.filter((s) => s !== shard);
    // Readers are dropped with an empty entry: they were told, and read again when they next need it.
    if (entry.shards.length === 0) this.kv.delete(ENTRY + key);
    else this.kv.put(ENTRY + key, entry);
    return entry.readers.filter((r) => r !== shard);
  }

  /** Entries stored (for tests: nothing may grow when sockets come and go). */
  size(): number {
    return [...this.kv.list({ prefix: ENTRY })].length;
  }
}

const INBOX = "shard:inbox:";

/**
 * The last sequence number delivered from each publishing shard: a batch retried
 * after a failure (the destination evicted or reset mid-call) is not delivered
 * twice. One row per publishing shard, so bounded by the number of shards.
 */
export class InboxStore {
  constructor(private readonly kv: SyncKvStorage) {}

  last(publisher: number): number {
    return this.kv.get<number>(INBOX + publisher) ?? 0;
  }

  advance(publisher: number, seq: number): void {
    this.kv.put(INBOX + publisher, seq);
  }
}
