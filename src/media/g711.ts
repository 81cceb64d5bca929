/**
 * G.711 μ-law and A-law, table driven and bit-exact with the ITU-T G.191 reference (`g711.c`: `ulaw_compress`,
 * `ulaw_expand`, `alaw_compress`, `alaw_expand`).
 *
 * Why G.191 and not the `alawmulaw` npm package: G.191 is the standard's own reference code. alawmulaw agrees with
 * it on every decode and on all but 127 encode inputs per law: negative samples that sit exactly on a decision
 * threshold, which alawmulaw rounds one step louder (it mirrors a negative x as -x, G.191 as ~x = -x-1). The tests
 * check us against a G.191 transcription over all 65,536 inputs, and check that alawmulaw differs from us on
 * exactly that threshold set and by exactly one step (spec/dependencies.md §3).
 *
 * Encoding is one lookup in a 64K-entry table indexed by the sample's 16-bit pattern; decoding one lookup in a
 * 256-entry table. Tables are built on first use (about 1 ms), never at import time.
 */
import { allocPcm16 } from './pcm.js';

let ulawEncTable: Uint8Array | null = null;
let alawEncTable: Uint8Array | null = null;
let ulawDecTable: Int16Array | null = null;
let alawDecTable: Int16Array | null = null;

/** G.191 `ulaw_compress` for one 16-bit sample (the reference the tables are built from). */
function g191UlawCompress(x: number): number {
  // 14-bit magnitude; ~x (one's complement) for negatives, plus 33, the offset between μ-law and A-law thresholds.
  let absno = (x < 0 ? ~x >> 2 : x >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const high = 8 - segno;
  const low = 15 - ((absno >> segno) & 0x0f);
  const code = (high << 4) | low;
  return x >= 0 ? code | 0x80 : code;
}

/** G.191 `ulaw_expand` for one code. */
function g191UlawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const inv = ~code;
  const exponent = (inv >> 4) & 0x07;
  const mantissa = inv & 0x0f;
  const step = 4 << (exponent + 1);
  return sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33);
}

/** G.191 `alaw_compress` for one 16-bit sample. */
function g191AlawCompress(x: number): number {
  let ix = x < 0 ? ~x >> 4 : x >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix = ix - 16 + (iexp << 4);
  }
  if (x >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** G.191 `alaw_expand` for one code. */
function g191AlawExpand(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 8;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

function buildEncTable(compress: (x: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  // Indexed by the two's-complement bit pattern, so `sample & 0xffff` finds negatives too.
  for (let x = -32768; x < 32768; x++) table[x & 0xffff] = compress(x);
  return table;
}

function buildDecTable(expand: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = expand(c);
  return table;
}

function ulawEnc(): Uint8Array {
  if (ulawEncTable === null) ulawEncTable = buildEncTable(g191UlawCompress);
  return ulawEncTable;
}

function alawEnc(): Uint8Array {
  if (alawEncTable === null) alawEncTable = buildEncTable(g191AlawCompress);
  return alawEncTable;
}

function ulawDec(): Int16Array {
  if (ulawDecTable === null) ulawDecTable = buildDecTable(g191UlawExpand);
  return ulawDecTable;
}

function alawDec(): Int16Array {
  if (alawDecTable === null) alawDecTable = buildDecTable(g191AlawExpand);
  return alawDecTable;
}

// Fresh outputs come from Node's Buffer pool (a Buffer is a Uint8Array): for a 160-byte frame that is several
// times cheaper than `new Uint8Array(n)`, whose allocation would cost as much as the encoding itself.
function encodeWith(table: Uint8Array, pcm: Int16Array, out: Uint8Array | undefined): Uint8Array {
  const n = pcm.length;
  const dst = out ?? Buffer.allocUnsafe(n);
  if (dst.length < n) throw new RangeError(`output holds ${dst.length} codes, need ${n}`);
  for (let i = 0; i < n; i++) dst[i] = table[pcm[i]! & 0xffff]!;
  return dst;
}

function decodeWith(table: Int16Array, codes: Uint8Array, out: Int16Array | undefined): Int16Array {
  const n = codes.length;
  const dst = out ?? allocPcm16(n);
  if (dst.length < n) throw new RangeError(`output holds ${dst.length} samples, need ${n}`);
  for (let i = 0; i < n; i++) dst[i] = table[codes[i]!]!;
  return dst;
}

/** Clamps to int16 and truncates toward zero, so any number indexes the table safely. */
function toInt16(sample: number): number {
  if (sample >= 32767) return 32767;
  if (sample <= -32768) return -32768;
  return sample | 0;
}

/** Encodes PCM16 samples to μ-law codes: into `out` when given (it must be long enough), else a new Buffer. */
export function ulawEncode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(ulawEnc(), pcm, out);
}

/** Decodes μ-law codes to PCM16 samples: into `out` when given, else a new array (see allocPcm16). */
export function ulawDecode(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(ulawDec(), codes, out);
}

/** Encodes PCM16 samples to A-law codes: into `out` when given, else a new Buffer. */
export function alawEncode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(alawEnc(), pcm, out);
}

/** Decodes A-law codes to PCM16 samples: into `out` when given, else a new array (see allocPcm16). */
export function alawDecode(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(alawDec(), codes, out);
}

/** One sample to its μ-law code. Values outside int16 are clamped; fractions truncate toward zero. */
export function linearToUlaw(sample: number): number {
  return ulawEnc()[toInt16(sample) & 0xffff]!;
}

/** One μ-law code (0..255) to its PCM16 value. */
export function ulawToLinear(code: number): number {
  return ulawDec()[code & 0xff]!;
}

/** One sample to its A-law code. Values outside int16 are clamped; fractions truncate toward zero. */
export function linearToAlaw(sample: number): number {
  return alawEnc()[toInt16(sample) & 0xffff]!;
}

/** One A-law code (0..255) to its PCM16 value. */
export function alawToLinear(code: number): number {
  return alawDec()[code & 0xff]!;
}

/**
 * A 256-entry μ-law → A-law (or A-law → μ-law) table: the same result as decode-then-encode, one lookup a byte.
 * Used by converters between the two laws at one rate.
 */
export function g711TranscodeTable(from: 'ulaw' | 'alaw'): Uint8Array {
  const dec = from === 'ulaw' ? ulawDec() : alawDec();
  const enc = from === 'ulaw' ? alawEnc() : ulawEnc();
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) table[c] = enc[dec[c]! & 0xffff]!;
  return table;
}
