/**
 * Approximate distinct counting for output summaries: exact while a column has few distinct values (so a
 * 3-valued `status` column says 3, not 2.98), then a HyperLogLog sketch (2^16 registers, ≈ 0.4 % standard
 * error) once it has many. Values are fed as 32-bit hashes so that the summary loops can hash straight from
 * Arrow buffers without building JS values.
 *
 * The HLL estimate uses Ertl's improved raw estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017), which is unbiased over the whole range without empirical bias tables.
 */

const PRECISION = 16;
const REGISTERS = 1 << PRECISION;
/** Bits of the hash left for the rank after the register index. */
const RANK_BITS = 32 - PRECISION;
/** Up to this many distinct hashes are counted exactly. */
const EXACT_LIMIT = 8192;
const EXACT_SLOTS = EXACT_LIMIT * 4;

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Hash of a 64-bit value given as its low and high 32-bit words. */
export function hash64(lo: number, hi: number): number {
  return mix32(lo ^ mix32(hi ^ 0x1b873593));
}

/** FNV-1a over a byte range, finalised with `mix32` (FNV alone is weak in the high bits HLL uses). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return mix32(h ^ (end - start));
}

/** Hash of a JS string (UTF-16 code units), for values that only exist as strings. */
export function hashString(text: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h ^ text.length);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  let xi = x;
  do {
    xi *= xi;
    previous = z;
    z += xi * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  let xi = x;
  do {
    xi = Math.sqrt(xi);
    previous = z;
    y *= 0.5;
    z -= (1 - xi) * (1 - xi) * y;
  } while (z !== previous);
  return z / 3;
}

/** Counts distinct 32-bit hashes: exactly up to a few thousand, then approximately. */
export class DistinctCounter {
  /** Open-addressing set of the hashes seen so far (0 marks an empty slot); dropped once the sketch takes over. */
  private exact = new Int32Array(EXACT_SLOTS);
  /** Whether hash 0 was seen (slot value 0 means "empty" in the exact table). */
  private sawZero = false;
  private exactCount = 0;
  private registers: Uint8Array | null = null;

  /** Adds one value's hash (any 32-bit integer, well mixed). Kept tiny so that the scan loops inline it. */
  add(hash: number): void {
    const registers = this.registers;
    if (registers !== null) {
      const index = hash >>> RANK_BITS;
      const rest = hash << PRECISION;
      const rank = rest === 0 ? RANK_BITS + 1 : Math.clz32(rest) + 1;
      if (rank > registers[index]) registers[index] = rank;
    } else {
      this.addExact(hash);
    }
  }

  private addExact(hash: number): void {
    if (hash === 0) {
      if (!this.sawZero) {
        this.sawZero = true;
        this.exactCount++;
      }
    } else {
      const table = this.exact;
      let slot = hash & (EXACT_SLOTS - 1);
      let current = table[slot];
      while (current !== 0 && current !== hash) {
        slot = (slot + 1) & (EXACT_SLOTS - 1);
        current = table[slot];
      }
      if (current !== 0) return;
      table[slot] = hash;
      this.exactCount++;
    }
    if (this.exactCount > EXACT_LIMIT) this.switchToSketch();
  }

  private addToSketch(hash: number): void {
    const registers = this.registers;
    if (registers === null) return;
    const index = hash >>> RANK_BITS;
    const rest = hash << PRECISION;
    const rank = rest === 0 ? RANK_BITS + 1 : Math.clz32(rest) + 1;
    if (rank > registers[index]) registers[index] = rank;
  }

  private switchToSketch(): void {
    const table = this.exact;
    this.registers = new Uint8Array(REGISTERS);
    this.exact = new Int32Array(0);
    if (this.sawZero) this.addToSketch(0);
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) this.addToSketch(table[i]);
  }

  /** Exact count while small, else the HyperLogLog estimate rounded to an integer. */
  estimate(): number {
    const registers = this.registers;
    if (registers === null) return this.exactCount;
    const histogram = new Array<number>(RANK_BITS + 2).fill(0);
    for (let i = 0; i < registers.length; i++) histogram[registers[i]]++;
    const m = REGISTERS;
    let z = m * tau(1 - histogram[RANK_BITS + 1] / m);
    for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + histogram[k]);
    z += m * sigma(histogram[0] / m);
    const alphaInfinity = 1 / (2 * Math.log(2));
    return Math.round((alphaInfinity * m * m) / z);
  }
}
