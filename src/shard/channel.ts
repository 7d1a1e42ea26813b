/**
 * One publisher shard's ordered channel to one destination shard: items go out
 * in the order they were pushed, in batches, one batch in flight. A failed batch
 * is retried as it was (same sequence numbers), so the destination, which
 * remembers the last sequence number it delivered from this publisher, delivers
 * it once whether the failure came before or after it was delivered.
 */
export interface Sequenced<T> {
  seq: number;
  item: T;
}

/** Attempts of one batch before its items are given up (with a log line): about 13 s in all. */
export const MAX_ATTEMPTS = 8;
const MAX_BATCH = 64;

export class Channel<T> {
  private readonly queue: { entry: Sequenced<T>; resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  private busy = false;

  constructor(
    private readonly send: (batch: Sequenced<T>[]) => Promise<number[]>,
    private readonly backoff: (attempt: number) => number = (attempt) => 50 * 2 ** attempt,
  ) {}

  /** Resolves with what the destination reports for this item (how many sockets it reached). */
  push(seq: number, item: T): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry: { seq, item }, resolve, reject });
      void this.run();
    });
  }

  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  private async run(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        for (let attempt = 1; ; attempt++) {
          try {
            const counts = await this.send(batch.map((b) => b.entry));
            batch.forEach((b, i) => b.resolve(counts[i] ?? 0));
            break;
          } catch (error) {
            if (attempt >= MAX_ATTEMPTS) {
              console.error("Sharded room: a batch could not be delivered to a shard, given up:", error);
              for (const b of batch) b.reject(error);
              break;
            }
            await new Promise((r) => setTimeout(r, this.backoff(attempt)));
          }
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** Retries an idempotent call (directory updates) a few times before giving up. */
export async function withRetries<R>(call: () => Promise<R>, attempts = 5): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}
