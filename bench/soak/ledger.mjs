/**
 * Every message of a soak run and what each recipient got, and the rules that
 * say what each recipient should have got.
 *
 * A message is `{ p, s }` in the event's first argument: publisher id and that
 * publisher's sequence number (1, 2, ...). It is *confirmed* when the server
 * answered for it: the relay's ack for a client emit, a 200 for a REST publish
 * (a first answer or a replay of its Idempotency-Key).
 *
 * A recipient is one logical client (it keeps its id across reconnects). Its
 * *spans* are the stretches in which the server owes it every message of its
 * room: a span starts at a `connect` that did not recover a session and lasts
 * through every disconnect after which the client came back with
 * `socket.recovered === true`; it ends at the first disconnect not followed by
 * a recovery (a deliberate leave, a gap past the recovery window, or a fault
 * the room could not see: an eviction dropping a polling session, a restart of
 * the runtime), or at the end of the run. When such a disconnect (not a leave)
 * came at most FAULT_NOTICE_MS after a fault injected into the recipient's
 * room (or the runtime) since its last connect, the span ends at the fault: a client learns of a dead
 * connection only later, and messages confirmed between the fault and that
 * moment were never owed to it (README: only a disconnect the room saw keeps
 * the state).
 *
 * The expected set of a recipient: every confirmed message of its room, not
 * its own (the relay broadcasts to the others), sent (first attempt) at or
 * after the start of one of its spans and confirmed at or before that span's
 * end. Against that set:
 * - lost: expected and never received;
 * - lostInRecoveredGaps: of those, relayed while the client was away in a gap
 *   it recovered from (sent before the gap ended, confirmed after it began:
 *   what connection state recovery promises to replay);
 * - lostInFlight: of those, on their way to the client when a span ended
 *   before the run did: confirmed at most IN_FLIGHT_MS before its end, or due
 *   in a replay that came at most IN_FLIGHT_MS before it (a recovery answered
 *   by a runtime that was going down). The client did not recover from that
 *   loss, and without recovery Socket.IO delivers at most once: what is in
 *   flight goes with the connection;
 * - lostOtherwise: the rest (none is the claim).
 * - duplicated: receipts of a message beyond its first;
 * - reordered: first receipts of a message whose sequence number is below one
 *   already received from the same publisher;
 * - unknown: receipts of a message nobody sent (or of another room).
 * Messages received outside the expected set (sent across a span's boundary,
 * unconfirmed) count as delivered, never as lost.
 */
/** How long after a fault a client may take to notice its connection died with it. */
export const FAULT_NOTICE_MS = 10_000;

/** A message confirmed this shortly before the end of a span was still on its way when the connection went. */
export const IN_FLIGHT_MS = 2000;

export class Ledger {
  /** @type {Map<string, {room: string, sender: string | null, sent: number[], confirmed: Array<number | null>}>} */
  publishers = new Map();
  /** @type {Map<string, Recipient>} */
  recipients = new Map();
  /** Times of faults by room ("*": the whole runtime). */
  faults = new Map();

  publisher(id, room, sender) {
    this.publishers.set(id, { room, sender, sent: [0], confirmed: [0] });
  }

  /** The next message of a publisher: its payload. */
  send(publisherId, at) {
    const publisher = this.publishers.get(publisherId);
    const s = publisher.sent.length;
    publisher.sent.push(at);
    publisher.confirmed.push(null);
    return { p: publisherId, s };
  }

  confirm(publisherId, s, at) {
    const publisher = this.publishers.get(publisherId);
    publisher.confirmed[s] ??= at;
  }

  recipient(id, room) {
    const recipient = new Recipient(id, room);
    this.recipients.set(id, recipient);
    return recipient;
  }

  fault(room, at) {
    if (!this.faults.has(room)) this.faults.set(room, []);
    this.faults.get(room).push(at);
  }

  /** The latest fault that hit `room` after `after` and at most FAULT_NOTICE_MS before `before`, or null. */
  faultBetween(room, after, before) {
    let latest = null;
    after = Math.max(after, before - FAULT_NOTICE_MS);
    for (const key of [room, "*"]) {
      for (const at of this.faults.get(key) ?? []) if (at > after && at <= before && (latest === null || at > latest)) latest = at;
    }
    return latest;
  }

  faultsWithin(room, from, to) {
    return [room, "*"].flatMap((key) => (this.faults.get(key) ?? []).filter((at) => at >= from && at <= to).map((at) => ({ room: key, at })));
  }

  /** Figures for the whole run, and per recipient. */
  summary(endAt) {
    const totals = { sent: 0, confirmed: 0, expected: 0, delivered: 0, lost: 0, lostInRecoveredGaps: 0, lostInFlight: 0, lostOtherwise: 0, duplicated: 0, reordered: 0, unknown: 0 };
    /** Messages lost in flight, by what ended the span they were owed in (the reconnect's kind, or "leave"). */
    const lostInFlightBy = {};
    for (const publisher of this.publishers.values()) {
      totals.sent += publisher.sent.length - 1;
      totals.confirmed += publisher.confirmed.filter((at, s) => s > 0 && at !== null).length;
    }
    const perRecipient = [];
    const lostExamples = [];
    for (const recipient of this.recipients.values()) {
      const spans = recipient.closedSpans(endAt, this);
      const figures = { id: recipient.id, expected: 0, delivered: 0, lost: 0, lostInRecoveredGaps: 0, lostInFlight: 0, lostOtherwise: 0, duplicated: recipient.duplicated, reordered: recipient.reordered, unknown: recipient.unknown };
      for (const [publisherId, publisher] of this.publishers) {
        const counts = recipient.counts.get(publisherId);
        if (counts) for (const count of counts) if (count) figures.delivered++;
        if (publisher.room !== recipient.room || publisher.sender === recipient.id) continue;
        for (let s = 1; s < publisher.sent.length; s++) {
          const sentAt = publisher.sent[s];
          const confirmedAt = publisher.confirmed[s];
          const span = confirmedAt === null ? undefined : spans.find((span) => span.start <= sentAt && confirmedAt <= span.end);
          if (!span) continue;
          figures.expected++;
          if (counts?.[s]) continue;
          figures.lost++;
          const gap = recipient.gaps.find((gap) => gap.from <= confirmedAt && sentAt <= gap.to);
          // A replay that came shortly before the connection went again (or after a fault had already hit) was in flight too.
          const cutReplay = span.ended && recipient.gaps.some((g) => g.to >= span.end - IN_FLIGHT_MS && g.to >= span.start && confirmedAt <= g.to);
          let kind = "otherwise";
          if (span.ended && (span.end - confirmedAt <= IN_FLIGHT_MS || cutReplay)) kind = "in flight";
          else if (gap !== undefined) kind = "in a recovered gap";
          figures[{ otherwise: "lostOtherwise", "in a recovered gap": "lostInRecoveredGaps", "in flight": "lostInFlight" }[kind]]++;
          if (kind === "in flight") {
            const cause = `${span.cause ?? "not back by the end of the run"}${recipient.mode ? ` (${recipient.mode})` : ""}`;
            lostInFlightBy[cause] = (lostInFlightBy[cause] ?? 0) + 1;
          }
          if (lostExamples.length < 20 || (kind !== "in flight" && lostExamples.length < 40)) {
            const near = recipient.log.filter(([, at]) => Math.abs(at - confirmedAt) < 5000);
            lostExamples.push({ kind, near, recipient: recipient.id, mode: recipient.mode, p: publisherId, s, sentAt, confirmedAt, gap, faultsInGap: gap ? this.faultsWithin(recipient.room, gap.from - FAULT_NOTICE_MS, gap.to) : [], spanEndsAtFaultMsLater: span.atFault ? span.end - confirmedAt : null });
          }
        }
      }
      for (const key of Object.keys(totals)) if (key in figures && key !== "sent" && key !== "confirmed") totals[key] += figures[key];
      perRecipient.push(figures);
    }
    lostExamples.sort((a, b) => (a.kind === "in flight") - (b.kind === "in flight"));
    return { totals, lostInFlightBy, perRecipient, lostExamples: lostExamples.slice(0, 20) };
  }
}

export class Recipient {
  /** publisher id → receipt count by sequence number */
  counts = new Map();
  /** Connects and disconnects with their times and offsets, for a lost message's story. */
  log = [];
  highest = new Map();
  duplicated = 0;
  reordered = 0;
  unknown = 0;
  /** Spans closed so far: {start, end}. */
  spans = [];
  /** Gaps the client recovered from: {from, to}. */
  gaps = [];
  /** Start of the open span and of its latest (re)connect; null while no span is open. */
  openSince = null;
  lastConnect = null;
  /** When the connection was last lost (the span may still go on, if the next connect recovers). */
  lostAt = null;
  connects = 0;
  recoveries = 0;
  newSessions = 0;
  recoveryRefusedAfterDrop = 0;

  constructor(id, room) {
    this.id = id;
    this.room = room;
  }

  /** `cause`: what the client made of this reconnect (clients.mjs, reconnectKind), for the span it ends. */
  connected(at, recovered, ledger, offset = null, cause = null) {
    this.connects++;
    this.log.push(["connect", at, recovered, offset]);
    if (recovered && this.openSince !== null) {
      this.recoveries++;
      if (this.lostAt !== null) this.gaps.push({ from: this.lostAt, to: at, offsetAtLoss: this.offsetAtLoss, offsetSent: offset });
    } else {
      if (recovered) this.recoveries++; // recovered with no open span: nothing is owed from before
      else this.newSessions++;
      this.closeSpan(ledger, true, cause);
      this.openSince = at;
    }
    this.lastConnect = at;
    this.lostAt = null;
  }

  disconnected(at, offset = null) {
    this.log.push(["disconnect", at, offset]);
    if (this.lostAt === null) this.offsetAtLoss = offset;
    this.lostAt ??= at;
  }

  /** A deliberate leave: nothing is owed from now until the next connect. */
  left(at, ledger) {
    this.lostAt ??= at;
    this.closeSpan(ledger, false, "leave");
  }

  closeSpan(ledger, cutAtFault = true, cause = null) {
    if (this.openSince === null) return;
    const lostAt = this.lostAt ?? Date.now();
    const fault = cutAtFault ? ledger.faultBetween(this.room, this.lastConnect, lostAt) : null;
    this.spans.push({ start: this.openSince, end: fault ?? lostAt, atFault: fault !== null, ended: true, cause });
    this.lastConnect = null;
    this.openSince = null;
  }

  closedSpans(endAt, ledger) {
    if (this.openSince === null) return this.spans;
    const fault = this.lostAt === null ? null : ledger.faultBetween(this.room, this.lastConnect, this.lostAt);
    return [...this.spans, { start: this.openSince, end: fault ?? this.lostAt ?? endAt, atFault: fault !== null, ended: this.lostAt !== null }];
  }

  received(payload, ledger) {
    const publisher = payload && ledger.publishers.get(payload.p);
    if (!publisher || publisher.room !== this.room || !Number.isInteger(payload.s) || payload.s < 1 || payload.s >= publisher.sent.length) {
      this.unknown++;
      return;
    }
    let counts = this.counts.get(payload.p);
    if (!counts) this.counts.set(payload.p, (counts = []));
    const count = counts[payload.s] ?? 0;
    counts[payload.s] = count + 1;
    if (count > 0) {
      this.duplicated++;
      return;
    }
    const highest = this.highest.get(payload.p) ?? 0;
    if (payload.s < highest) this.reordered++;
    else this.highest.set(payload.p, payload.s);
  }
}
