/**
 * A short fuzz run (npm run fuzz runs longer ones): every entry point gets
 * generated and mutated inputs while well-behaved clients in the same room
 * must get every message in order. The seed is printed; FUZZ_SEED replays it.
 */
import { expect, it } from "vitest";
// @ts-expect-error plain JavaScript module, shared with scripts/fuzz.mjs
import { formatReport, isClean, runFuzz } from "../../scripts/fuzz/run.mjs";

it("answers every fuzzed input as documented, and the room keeps serving its clients", async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const report = await runFuzz({ seed, cases: 400, seconds: 6 });
  console.log(formatReport(report));
  expect(Object.values(report.counts as Record<string, number>).every((n) => n > 0), formatReport(report)).toBe(true);
  expect(isClean(report), formatReport(report)).toBe(true);
}, 120_000);
