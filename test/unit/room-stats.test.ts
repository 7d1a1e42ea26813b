/**
 * The room's counters as a unit: per-minute ring, totals, saving and merging
 * across instances (a wake), with a fake clock and an in-memory storage.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RoomStats, STATS_KEY, type StatsStorage } from "../../src/room/room-stats";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 10); // 10 s into a minute

function memoryStorage(): StatsStorage & { data: Map<string, unknown>; puts: number } {
  const data = new Map<string, unknown>();
  return {
    data,
    puts: 0,
    async get<T>(key: string) {
      return structuredClone(data.get(key)) as T | undefined;
    },
    async put<T>(key: string, value: T) {
      this.puts++;
      data.set(key, structuredClone(value));
    },
  };
}

describe("room stats", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it("counts since start and per minute, the current minute last", () => {
    const stats = new RoomStats(memoryStorage());
    stats.received("4hi");
    stats.received(new ArrayBuffer(5));
    for (let i = 0; i < 3; i++) stats.sent(10);
    stats.count("ping_timeout");
    vi.setSystemTime(T0 + MINUTE);
    stats.received("4abc");

    const report = stats.report();
    expect(report.sinceStart).toMatchObject({ messagesIn: 3, bytesIn: 3 + 5 + 4, messagesOut: 3, bytesOut: 30, wakes: 1 });
    expect(report.sinceStart.errors).toMatchObject({ ping_timeout: 1, parse_error: 0 });
    const { start, minutes, counts } = report.perMinute;
    expect(minutes).toBe(60);
    expect(counts.messagesIn).toHaveLength(60);
    expect(counts.messagesIn.slice(-2)).toEqual([2, 1]);
    expect(counts.messagesOut.slice(-2)).toEqual([3, 0]);
    expect(counts.errors.ping_timeout.slice(-2)).toEqual([1, 0]);
    expect(start).toBe(Math.floor((T0 + MINUTE) / MINUTE) * MINUTE - 59 * MINUTE);
  });

  it("drops minutes older than an hour from the series, not from the totals", () => {
    const stats = new RoomStats(memoryStorage());
    stats.sent(1);
    vi.setSystemTime(T0 + 61 * MINUTE);
    stats.received("4x"); // reads the clock, as the message that causes sends does
    stats.sent(1);
    const report = stats.report();
    expect(report.sinceStart.messagesOut).toBe(2);
    expect(report.perMinute.counts.messagesOut.reduce((a, b) => a + b)).toBe(1);
    // Idle for two hours: the series is empty, the totals stay.
    const later = stats.report(T0 + 180 * MINUTE);
    expect(later.perMinute.counts.messagesOut.every((n) => n === 0)).toBe(true);
    expect(later.sinceStart.messagesOut).toBe(2);
  });

  it("puts sends in the minute of the last clock reading, taken every second while sends keep coming", async () => {
    const stats = new RoomStats(memoryStorage());
    // 50 s to the end of the minute, then 20 s into the next one, sending every second and receiving nothing.
    for (let s = 0; s < 70; s++) {
      stats.sent(1);
      await vi.advanceTimersByTimeAsync(1000);
    }
    const [previous, current] = stats.report().perMinute.counts.messagesOut.slice(-2);
    expect(previous + current).toBe(70);
    expect(previous).toBeGreaterThanOrEqual(50);
    expect(previous).toBeLessThanOrEqual(52);
  });

  it("saves a second or two after the last count, and at most once a minute while counts keep coming", async () => {
    const storage = memoryStorage();
    const stats = new RoomStats(storage);
    for (let s = 0; s < 90; s++) {
      stats.received("4x");
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(storage.puts).toBe(1); // after 60 s of traffic
    await vi.advanceTimersByTimeAsync(5000);
    expect(storage.puts).toBe(2); // quiet
    await vi.advanceTimersByTimeAsync(60_000);
    expect(storage.puts).toBe(2); // nothing new, nothing written
  });

  it("merges what an earlier instance saved: totals, the minutes of the last hour, the start", async () => {
    const storage = memoryStorage();
    const first = new RoomStats(storage);
    first.received("4one");
    vi.setSystemTime(T0 + MINUTE);
    first.received("4two");
    first.count("alarms");
    await first.save();

    // Evicted; woken 30 s later in the same minute, then a minute later.
    vi.setSystemTime(T0 + MINUTE + 30_000);
    const second = new RoomStats(storage);
    second.received("4three");
    await second.load();
    let report = second.report();
    expect(report.startedAt).toBe(T0);
    expect(report.awakeSince).toBe(T0 + MINUTE + 30_000);
    expect(report.sinceStart).toMatchObject({ messagesIn: 3, wakes: 2, alarms: 1 });
    expect(report.perMinute.counts.messagesIn.slice(-2)).toEqual([1, 2]);
    await second.save();

    vi.setSystemTime(T0 + 3 * MINUTE);
    const third = new RoomStats(storage);
    await third.load();
    report = third.report();
    expect(report.sinceStart).toMatchObject({ messagesIn: 3, wakes: 3, alarms: 1 });
    expect(report.perMinute.counts.messagesIn.slice(-4)).toEqual([1, 2, 0, 0]);
    expect(report.perMinute.counts.wakes.slice(-4)).toEqual([1, 1, 0, 1]);
    // Saving again does not count anything twice.
    await third.save();
    const fourth = new RoomStats(storage);
    await fourth.load();
    expect(fourth.report().sinceStart).toMatchObject({ messagesIn: 3, wakes: 4 });
    expect(storage.data.has(STATS_KEY)).toBe(true);
  });
});
