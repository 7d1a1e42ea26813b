/**
 * npm run fuzz -- [--seed=N] [--cases=N] [--seconds=S] [--concurrency=N] [--case=I]
 *
 * Random and mutated inputs at every entry point of the Worker running under
 * wrangler dev (scripts/fuzz/), while well-behaved socket.io-clients in the
 * same room check that they get every message in order. Prints the seed
 * first: the same seed replays the same cases (--case=I replays case I alone).
 * Exits 1 on any failure.
 */
import { formatReport, isClean, runFuzz } from "./fuzz/run.mjs";

const DEFAULTS = { seed: String(Date.now() % 2 ** 31), cases: "2000", seconds: "120", concurrency: "6", case: "" };

function options(argv) {
  const values = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match || !(match[1] in DEFAULTS)) throw new Error(`unknown argument ${argv[i]} (flags: ${Object.keys(DEFAULTS).map((k) => "--" + k).join(", ")})`);
    values[match[1]] = match[2] ?? argv[++i];
  }
  const int = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  return { seed: int("seed"), cases: int("cases"), seconds: int("seconds"), concurrency: Math.max(1, int("concurrency")), only: values.case === "" ? undefined : int("case") };
}

const settings = options(process.argv.slice(2));
console.log(`fuzz seed ${settings.seed} (replay with --seed=${settings.seed}); at most ${settings.cases} cases or ${settings.seconds} s`);
const report = await runFuzz({ ...settings, log: (line) => console.log(line) });
console.log(formatReport(report));
process.exit(isClean(report) ? 0 : 1);
