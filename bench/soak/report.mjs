/** Counting reconnect outcomes, and the soak's printed report. */
export class Outcomes {
  counts = {};
  /** Reconnects that should have recovered and did not. */
  surprises = [];

  count(kind, surprise = null) {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (surprise && this.surprises.length < 20) this.surprises.push(surprise);
  }
}

export function printReport(report) {
  const { totals, perRecipient, lostExamples } = report.summary;
  const line = (label, value) => console.log(`  ${label.padEnd(34)} ${value}`);
  console.log(`\nsoak: ${report.durationS.toFixed(0)} s, ${report.options.clients} clients, ${report.options.rooms} rooms`);
  console.log("messages");
  line("sent (relay + REST)", totals.sent);
  line("confirmed (ack / 200)", totals.confirmed);
  line("expected deliveries", totals.expected);
  line("delivered (distinct)", totals.delivered);
  line("lost", totals.lost);
  line("  in recovered gaps", totals.lostInRecoveredGaps);
  line("  in flight at a loss not recovered", totals.lostInFlight);
  for (const [cause, n] of Object.entries(report.summary.lostInFlightBy ?? {}).sort()) line(`    ${cause}`, n);
  line("  otherwise", totals.lostOtherwise);
  line("duplicated", totals.duplicated);
  line("reordered", totals.reordered);
  line("unknown", totals.unknown);
  const worst = (key) => perRecipient.reduce((max, r) => Math.max(max, r[key]), 0);
  line("per recipient: expected min–max", `${Math.min(...perRecipient.map((r) => r.expected))}–${worst("expected")}`);
  line("per recipient: worst lost/dup/reord", `${worst("lost")}/${worst("duplicated")}/${worst("reordered")}`);
  console.log("faults injected");
  const { injected } = report;
  line("dropped connections", `${injected.drops} (${injected.dropsPastWindow} away past the window)`);
  line("leaves and rejoins", injected.leaves);
  line("evictions", `${injected.evictions} (+${injected.evictionsOfIdleObjects} of an object not running, ${injected.evictionsFailed ?? 0} failed)`);
  for (const error of injected.evictionErrors ?? []) line("  eviction error", error);
  line("runtime restarts", `${injected.restarts} (${injected.restartMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ")})`);
  console.log("reconnects");
  for (const [kind, n] of Object.entries(report.outcomes).sort()) line(kind, n);
  for (const [mode, figures] of Object.entries(report.clients)) line(mode, JSON.stringify(figures));
  console.log("REST publishes");
  line("attempts / retries", `${report.rest.attempts} / ${report.rest.retries}`);
  line("cut short / resent after a 200", `${report.rest.cutShort} / ${report.rest.resentAfterSuccess}`);
  line("replayed (Idempotency-Key)", report.rest.replayed);
  line("failed attempts (retried)", report.rest.failures);
  line("refused", JSON.stringify(report.rest.refused));
  for (const [label, key] of [["the Worker's workerd", "rssMiB"], ["the proxy's workerd", "proxyRssMiB"]]) {
    console.log(`runtime memory: RSS of ${label} (MiB) over time`);
    console.log("  " + report.memory.map((m) => (m.restart ? `| restart at ${Math.round(m.t)} s |` : `${m.t}s:${m[key]}`)).join("  "));
    for (const segment of memorySegments(report.memory, key)) {
      line(`from ${segment.from} s to ${segment.to} s`, `steady part ${segment.firstMiB} → ${segment.lastMiB} MiB (${segment.growth})`);
    }
  }
  if (report.surprises.length > 0) {
    console.log("reconnects that should have recovered, or of no known cause");
    for (const surprise of report.surprises) console.log("  " + JSON.stringify(surprise));
  }
  if (lostExamples.length > 0) {
    console.log("first lost messages");
    for (const example of lostExamples) console.log("  " + JSON.stringify(example));
  }
}

/**
 * Growth of the runtime's memory within each stretch between restarts, once
 * steady: the mean of the second quarter of the stretch's samples against the
 * mean of its last quarter (the first quarter is warm-up).
 */
export function memorySegments(memory, key) {
  const segments = [[]];
  for (const sample of memory) {
    if (sample.restart) segments.push([]);
    else if (sample[key] > 0) segments[segments.length - 1].push(sample);
  }
  return segments
    .filter((samples) => samples.length >= 8)
    .map((samples) => {
      const quarter = Math.floor(samples.length / 4);
      const mean = (list) => list.reduce((sum, s) => sum + s[key], 0) / list.length;
      const first = mean(samples.slice(quarter, 2 * quarter));
      const last = mean(samples.slice(-quarter));
      const growth = `${last >= first ? "+" : ""}${(((last - first) / first) * 100).toFixed(1)} %`;
      return { from: samples[0].t, to: samples.at(-1).t, firstMiB: first.toFixed(1), lastMiB: last.toFixed(1), growth };
    });
}
