/**
 * A seeded pseudo-random source (sfc32, seeded through splitmix32) and the
 * functions the generators draw from. Same seed, same cases.
 */

function splitmix32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Random {
  constructor(seed) {
    const init = splitmix32(seed);
    this.a = init();
    this.b = init();
    this.c = init();
    this.d = init();
  }

  /** A uniform 32-bit unsigned integer. */
  next() {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  int(n) {
    return n <= 1 ? 0 : Math.floor((this.next() / 4294967296) * n);
  }

  /** An integer in [min, max]. */
  range(min, max) {
    return min + this.int(max - min + 1);
  }

  chance(p) {
    return this.next() / 4294967296 < p;
  }

  pick(items) {
    return items[this.int(items.length)];
  }

  /** A size, mostly small, sometimes near `max`. */
  size(max) {
    const r = this.int(10);
    if (r < 6) return this.int(Math.min(8, max + 1));
    if (r < 9) return this.int(Math.min(200, max + 1));
    return this.int(max + 1);
  }

  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A string of `n` characters drawn from ASCII, control characters, JSON syntax and some non-BMP. */
  text(n) {
    const alphabets = [
      "abcxyz0129",
      '[]{}",:\\/-',
      "\x00\x01\x1e\x1f\x7f\t\n",
      "éß€\u2028\ud83d\ude00\ud800",
    ];
    let s = "";
    for (let i = 0; i < n; i++) s += this.pick(this.pick(alphabets));
    return s;
  }

  /** A derived, independent source (one per case, so a case replays alone). */
  fork() {
    return new Random(this.next());
  }
}

/** Byte-level mutations of a string or bytes: flips, inserts, deletes, duplicated or truncated runs. */
export function mutateBytes(random, input) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : new Uint8Array(input);
  let out = [...bytes];
  const rounds = random.range(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = random.int(out.length + 1);
    switch (random.int(7)) {
      case 0:
        if (out.length > 0) out[Math.min(at, out.length - 1)] ^= 1 << random.int(8);
        break;
      case 1:
        out.splice(at, 0, ...random.bytes(random.range(1, 8)));
        break;
      case 2:
        out.splice(at, random.range(1, 16));
        break;
      case 3: {
        const run = out.slice(at, at + random.range(1, 32));
        const times = random.range(1, 64);
        for (let i = 0; i < times; i++) out.splice(at, 0, ...run);
        break;
      }
      case 4:
        out = out.slice(0, at);
        break;
      case 5:
        out.splice(at, 0, ...new TextEncoder().encode(random.pick(["[", "{", '"', "\\", ",", "]", "}", "-", "/", "\x1e", "b", "0", "9"])));
        break;
      default:
        if (out.length > 0) out[Math.min(at, out.length - 1)] = random.pick([0x00, 0x22, 0x5b, 0x7b, 0x2c, 0xff, 0xc0, 0x1e, 0x30, 0x39]);
    }
  }
  return Uint8Array.from(out);
}

/** Mutates a string at the byte level; the result may not be valid UTF-8 (decoded leniently, as a server would). */
export function mutateText(random, input) {
  return new TextDecoder().decode(mutateBytes(random, input));
}
