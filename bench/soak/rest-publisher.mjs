/**
 * One REST publisher per room: numbered messages through POST
 * /v1/rooms/:room/emit, one at a time, each with its own Idempotency-Key and
 * retried with the same key until it gets a 200 (the runtime may be restarting,
 * a room busy). Some first attempts are cut short on purpose (the request may
 * have been delivered while its answer is lost), and some successes are sent
 * once more, as a client that never saw its answer would: the room must deliver
 * each message once whatever happened to its answers.
 */
export class RestPublisher {
  attempts = 0;
  retries = 0;
  replayed = 0;
  cutShort = 0;
  resentAfterSuccess = 0;
  /** Answers that are not a 200 nor a retryable failure (a 422 here would mean a key was reused wrongly). */
  refused = {};
  failures = 0;
  busy = false;

  constructor({ room, url, apiKey, ledger, runId, random }) {
    this.id = `rest:${room}`;
    this.room = room;
    this.url = url;
    this.apiKey = apiKey;
    this.ledger = ledger;
    this.runId = runId;
    this.random = random;
    ledger.publisher(this.id, room, null);
  }

  /** Publishes the next message (unless the previous one is still being retried). */
  async publish(stopped) {
    if (this.busy) return;
    this.busy = true;
    try {
      const payload = this.ledger.send(this.id, Date.now());
      const key = `soak-${this.runId}-${this.room}-${payload.s}`;
      const body = JSON.stringify({ event: "msg", args: [payload] });
      let cut = this.random() < 0.1;
      for (let attempt = 0; !stopped(); attempt++) {
        if (attempt > 0) {
          this.retries++;
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
        }
        const answer = await this.post(body, key, cut ? 1 + Math.floor(this.random() * 20) : 10_000);
        if (cut) this.cutShort++;
        cut = false;
        if (answer === "ok") {
          this.ledger.confirm(this.id, payload.s, Date.now());
          if (this.random() < 0.1) {
            this.resentAfterSuccess++;
            await this.post(body, key, 10_000);
          }
          return;
        }
        if (answer === "refused") return;
      }
    } finally {
      this.busy = false;
    }
  }

  async post(body, key, timeoutMs) {
    this.attempts++;
    let response;
    try {
      response = await fetch(`${this.url}/v1/rooms/${this.room}/emit`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.apiKey}`, "Content-Type": "application/json", "Idempotency-Key": key },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      this.failures++;
      return "retry";
    }
    const text = await response.text().catch(() => null);
    if (response.status === 200) {
      let replayed;
      try {
        replayed = JSON.parse(text).replayed;
      } catch {
        this.failures++; // the answer was cut off: delivered or not, a retry with the key settles it
        return "retry";
      }
      if (replayed) this.replayed++;
      return "ok";
    }
    if (response.status >= 500) {
      this.failures++;
      return "retry";
    }
    this.refused[response.status] = (this.refused[response.status] ?? 0) + 1;
    return "refused";
  }
}
