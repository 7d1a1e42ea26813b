/**
 * Operator counters of one room object: what came in and went out, how often
 * the object woke and ran its alarm, and the errors by kind, since the room's
 * first start and per minute for the last hour.
 *
 * Cheap on the hot path: a count is an add into the current minute's row of a
 * fixed ring (60 rows), folded into the totals when the minute turns. A message
 * sent, counted once per recipient, does not even read the clock: it lands in
 * the minute of the room's last clock reading, taken at every message in,
 * connect, alarm and read, and every second while counts come in, so at most
 * that late. Bounded: the ring is all the memory it takes.
 *
 * Persisted without a write per message: the counts are saved to the object's
 * storage a second or two after the room goes quiet (before the runtime can
 * evict it; the pending save keeps a room that woke for a message awake that
 * much longer), at least once a minute while it stays busy, and at every alarm
 * (the engine room awaits `save()` there). What a new instance counts is merged
 * with what an earlier one saved on the first save or read.
 */
import type { CloseReason } from "../engine.io/session";

/** Counters, in the order of their column in a row. */
export const COUNTERS = [
  /** Engine.IO connections opened (handshakes) and closed, whatever the reason. */
  "connectionsOpened",
  "connectionsClosed",
  /** Polling connections that upgraded to WebSocket. */
  "upgrades",
  /** Socket.IO sockets that joined and left a namespace. */
  "socketsConnected",
  "socketsDisconnected",
  /** Engine.IO messages from clients and their size (text: UTF-16 units, exact for ASCII; binary: bytes). */
  "messagesIn",
  "bytesIn",
  /** Engine.IO messages sent, one per recipient, and their size as sent over a WebSocket. */
  "messagesOut",
  "bytesOut",
  /** Times the object was constructed: its first start and every wake from hibernation or eviction. */
  "wakes",
  /** Alarm runs (heartbeat, polling deadlines, connect timeouts). */
  "alarms",
  /** WebSocket messages that reached JavaScript (pongs answered by the runtime do not). */
  "webSocketMessages",
  /** Engine.IO pongs handled in JavaScript instead of the runtime's auto-response. */
  "pongsInJs",
] as const;

/** Errors, by kind; each closes or refuses one connection, never the room. */
export const ERROR_KINDS = [
  /** Malformed Engine.IO or Socket.IO packet, or a packet a client may not send: connection closed. */
  "parse_error",
  /** A message or polling payload over MAX_HTTP_BUFFER_SIZE: connection closed. */
  "message_too_big",
  /** No pong within PING_TIMEOUT: connection closed. */
  "ping_timeout",
  /** The transport failed (two GETs at once, a send to a dead socket, an upgrade that failed). */
  "transport_error",
  /** No namespace joined within CONNECT_TIMEOUT: connection closed. */
  "connect_timeout",
  /** A handshake refused by allowRequest, or a namespace CONNECT refused (invalid namespace, JWT, middleware, state too large). */
  "connect_refused",
  /** More packets than MAX_PACKET_RATE / PACKET_BURST allow: connection closed. */
  "rate_limited",
  /** A polling client let more than its outbox cap wait for its next GET: connection closed. */
  "outbox_full",
] as const;

/** Connection close reasons that are errors, by the kind they are counted under. */
export const CLOSE_ERRORS: Partial<Record<CloseReason, ErrorKind>> = {
  "parse error": "parse_error",
  "message too big": "message_too_big",
  "rate limited": "rate_limited",
  "outbox full": "outbox_full",
  "ping timeout": "ping_timeout",
  "transport error": "transport_error",
};

export type CounterName = (typeof COUNTERS)[number];
export type ErrorKind = (typeof ERROR_KINDS)[number];
export type Counts = Record<CounterName, number> & { errors: Record<ErrorKind, number> };
export type MinuteSeries = Record<CounterName, number[]> & { errors: Record<ErrorKind, number[]> };

export interface StatsReport {
  /** When the room object first started counting (ms since epoch). */
  startedAt: number;
  /** When this instance of the object was constructed (its latest wake). */
  awakeSince: number;
  sinceStart: Counts;
  /** The last 60 minutes, oldest first; `start` is the first minute's start (ms), the last is the current minute. */
  perMinute: { start: number; minutes: number; counts: MinuteSeries };
}

/** What a room saves (one storage key); counters by name, so that a new counter reads old values as 0. */
interface SavedStats {
  startedAt: number;
  /** Counts of every finished minute, including those still in `minutes`. */
  total: Record<string, number>;
  /** Minutes of the last hour with their counts (non-zero counters only). */
  minutes: { minute: number; counts: Record<string, number> }[];
  /** The minute that was current when saving: its counts are in `minutes`, not yet in `total`. */
  current: number;
}

/** The part of DurableObjectStorage the stats use. */
export interface StatsStorage {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
}

export const STATS_KEY = "room:stats";
const NAMES: readonly string[] = [...COUNTERS, ...ERROR_KINDS];
const WIDTH = NAMES.length;
const MINUTE = 60_000;
const SLOTS = 60;
/** Saved when nothing was counted for this long (checked at this interval)... */
const QUIET_MS = 1_000;
/** ...or this long after the previous save while counts keep coming. */
const MAX_UNSAVED_MS = 60_000;

const column = (name: string) => NAMES.indexOf(name);
const MESSAGES_IN = column("messagesIn");
const BYTES_IN = column("bytesIn");
const MESSAGES_OUT = column("messagesOut");
const BYTES_OUT = column("bytesOut");
const WEBSOCKET_MESSAGES = column("webSocketMessages");

export class RoomStats {
  /** Counts of the finished minutes since the room's first start. */
  private readonly total = new Float64Array(WIDTH);
  /** Row i holds the counts of minute `minuteOf[i]` (minutes since epoch; -1: unused). */
  private readonly ring = new Float64Array(SLOTS * WIDTH);
  private readonly minuteOf = new Float64Array(SLOTS).fill(-1);
  private current!: Float64Array;
  private minute = 0;
  private minuteEnd = 0;
  private startedAt: number;
  readonly awakeSince: number;

  private loading: Promise<void> | null = null;
  /** Armed while there are unsaved counts. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Something was counted since the timer last ran. */
  private active = false;
  private savedAt: number;

  constructor(private readonly storage: StatsStorage) {
    const now = Date.now();
    this.startedAt = this.awakeSince = this.savedAt = now;
    this.roll(now);
    this.count("wakes");
  }

  // --- counting (hot path first) ---------------------------------------------

  /** One Engine.IO message sent to one recipient (per recipient of a broadcast: no clock reading here). */
  sent(bytes: number): void {
    const row = this.current;
    row[MESSAGES_OUT]++;
    row[BYTES_OUT] += bytes;
    this.active = true;
    if (this.timer === null) this.arm();
  }

  /** One Engine.IO message from a client. */
  received(data: string | ArrayBuffer): void {
    const row = this.row();
    row[MESSAGES_IN]++;
    row[BYTES_IN] += typeof data === "string" ? data.length : data.byteLength;
  }

  webSocketMessage(): void {
    this.row()[WEBSOCKET_MESSAGES]++;
  }

  count(name: CounterName | ErrorKind, n = 1): void {
    this.row()[column(name)] += n;
  }

  /** The current minute's row, after noting that something was counted. */
  private row(): Float64Array {
    const now = Date.now();
    if (now >= this.minuteEnd) this.roll(now);
    this.active = true;
    if (this.timer === null) this.arm();
    return this.current;
  }

  /** Folds the finished minute into the totals and starts the row of the minute of `now`. */
  private roll(now: number): void {
    if (this.current !== undefined) for (let i = 0; i < WIDTH; i++) this.total[i] += this.current[i];
    this.minute = Math.floor(now / MINUTE);
    this.minuteEnd = (this.minute + 1) * MINUTE;
    const slot = this.minute % SLOTS;
    this.minuteOf[slot] = this.minute;
    this.current = this.ring.subarray(slot * WIDTH, (slot + 1) * WIDTH);
    this.current.fill(0);
  }

  // --- saving ----------------------------------------------------------------

  private arm(): void {
    this.timer = setTimeout(() => this.tick(), QUIET_MS);
  }

  /** Every QUIET_MS while there are unsaved counts: saves once they stop coming, or once a minute. */
  private tick(): void {
    this.timer = null;
    const now = Date.now();
    if (now >= this.minuteEnd) this.roll(now);
    if (this.active && now - this.savedAt < MAX_UNSAVED_MS) {
      this.active = false;
      this.arm();
      return;
    }
    this.save().catch((error) => console.error("Room stats not saved:", error));
  }

  /** Writes the counts to storage (merging what an earlier instance saved, the first time). */
  async save(): Promise<void> {
    await this.load();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.active = false;
    const now = Date.now();
    if (now >= this.minuteEnd) this.roll(now);
    this.savedAt = now;
    await this.storage.put<SavedStats>(STATS_KEY, this.toSaved());
  }

  /** Merges the counts an earlier instance saved, once. */
  load(): Promise<void> {
    this.loading ??= this.storage.get<SavedStats>(STATS_KEY).then((saved) => {
      if (saved !== undefined) this.merge(saved);
    });
    return this.loading;
  }

  private merge(saved: SavedStats): void {
    this.startedAt = Math.min(this.startedAt, saved.startedAt);
    NAMES.forEach((name, i) => (this.total[i] += saved.total[name] ?? 0));
    for (const { minute, counts } of saved.minutes) {
      // The saved current minute was not yet in the saved totals: it is finished now, or it is ours.
      if (minute === saved.current && minute < this.minute) NAMES.forEach((name, i) => (this.total[i] += counts[name] ?? 0));
      if (minute <= this.minute - SLOTS || minute > this.minute) continue;
      const slot = minute % SLOTS;
      if (this.minuteOf[slot] !== minute) {
        this.minuteOf[slot] = minute;
        this.ring.fill(0, slot * WIDTH, (slot + 1) * WIDTH);
      }
      NAMES.forEach((name, i) => (this.ring[slot * WIDTH + i] += counts[name] ?? 0));
    }
  }

  private toSaved(): SavedStats {
    const minutes: SavedStats["minutes"] = [];
    for (const minute of this.window()) {
      const counts = pick(this.rowOf(minute), (n) => n !== 0);
      if (Object.keys(counts).length > 0) minutes.push({ minute, counts });
    }
    return { startedAt: this.startedAt, total: pick(this.total, (n) => n !== 0), minutes, current: this.minute };
  }

  // --- reading -----------------------------------------------------------------

  /** Since start and per minute for the last hour; call `load()` first for the counts of earlier instances. */
  report(now = Date.now()): StatsReport {
    if (now >= this.minuteEnd) this.roll(now);
    const since = new Float64Array(this.total);
    for (let i = 0; i < WIDTH; i++) since[i] += this.current[i];
    const minutes = this.window();
    const series = NAMES.map((_, i) => minutes.map((minute) => this.rowOf(minute)?.[i] ?? 0));
    return {
      startedAt: this.startedAt,
      awakeSince: this.awakeSince,
      sinceStart: shape(NAMES.map((_, i) => since[i])),
      perMinute: { start: minutes[0] * MINUTE, minutes: SLOTS, counts: shape(series) },
    };
  }

  /** The minutes of the last hour, oldest first, ending with the current one. */
  private window(): number[] {
    return Array.from({ length: SLOTS }, (_, i) => this.minute - SLOTS + 1 + i);
  }

  private rowOf(minute: number): Float64Array | undefined {
    const slot = minute % SLOTS;
    return this.minuteOf[slot] === minute ? this.ring.subarray(slot * WIDTH, (slot + 1) * WIDTH) : undefined;
  }
}

function pick(row: Float64Array | undefined, keep: (n: number) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  if (row !== undefined) NAMES.forEach((name, i) => keep(row[i]) && (out[name] = row[i]));
  return out;
}

/** Values in NAMES order → counters by name, errors grouped. */
function shape<T>(values: T[]): Record<CounterName, T> & { errors: Record<ErrorKind, T> } {
  const out = Object.fromEntries(COUNTERS.map((name, i) => [name, values[i]])) as Record<CounterName, T>;
  const errors = Object.fromEntries(ERROR_KINDS.map((kind, i) => [kind, values[COUNTERS.length + i]])) as Record<ErrorKind, T>;
  return { ...out, errors };
}
