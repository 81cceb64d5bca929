import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import alawmulaw from 'alawmulaw';
import {
  alawDecode,
  alawEncode,
  alawToLinear,
  g711TranscodeTable,
  linearToAlaw,
  linearToUlaw,
  ulawDecode,
  ulawEncode,
  ulawToLinear,
} from './g711.js';

/*
 * Which reference: ITU-T G.191 (the standard's reference code), re-typed below from g711.c, independently of
 * g711.ts. alawmulaw is the independent oracle for decoding (all 256 codes must agree) and for encoding
 * everywhere except a documented set: it mirrors a negative sample x as -x where G.191 uses ~x (= -x-1), so the
 * two disagree exactly at negative x whose mirror -x is the first value of a quantisation interval
 * (spec/dependencies.md §3: 127 such inputs per law). The tests prove that set, not just its size.
 */

/** G.191 ulaw_compress, C semantics kept (short arithmetic, one's complement of negatives). */
function refUlawCompress(lin: number): number {
  let absno = lin < 0 ? (~lin >> 2) + 33 : (lin >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const highNibble = 0x0008 - segno;
  let lowNibble = (absno >> segno) & 0x000f;
  lowNibble = 0x000f - lowNibble;
  let log = (highNibble << 4) | lowNibble;
  if (lin >= 0) log |= 0x0080;
  return log;
}

/** G.191 ulaw_expand. */
function refUlawExpand(log: number): number {
  const sign = log < 0x0080 ? -1 : 1;
  let mantissa = ~log;
  const exponent = (mantissa >> 4) & 0x0007;
  const segment = exponent + 1;
  mantissa &= 0x000f;
  const step = 4 << segment;
  return sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33);
}

/** G.191 alaw_compress. */
function refAlawCompress(lin: number): number {
  let ix = lin < 0 ? ~lin >> 4 : lin >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (lin >= 0) ix |= 0x0080;
  return ix ^ 0x0055;
}

/** G.191 alaw_expand. */
function refAlawExpand(log: number): number {
  let ix = log ^ 0x0055;
  ix &= 0x007f;
  const iexp = ix >> 4;
  let mant = ix & 0x000f;
  if (iexp > 0) mant = mant + 16;
  mant = (mant << 4) + 0x0008;
  if (iexp > 1) mant = mant << (iexp - 1);
  return log > 127 ? mant : -mant;
}

function allInputs(): Int16Array {
  const pcm = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
  return pcm;
}

function allCodes(): Uint8Array {
  const codes = new Uint8Array(256);
  for (let c = 0; c < 256; c++) codes[c] = c;
  return codes;
}

interface Law {
  name: string;
  encode: (pcm: Int16Array, out?: Uint8Array) => Uint8Array;
  decode: (codes: Uint8Array, out?: Int16Array) => Int16Array;
  one: (x: number) => number;
  toLinear: (c: number) => number;
  refCompress: (x: number) => number;
  refExpand: (c: number) => number;
  oracle: { encodeSample(x: number): number; decodeSample(c: number): number };
}

const laws: Law[] = [
  {
    name: 'mu-law',
    encode: ulawEncode,
    decode: ulawDecode,
    one: linearToUlaw,
    toLinear: ulawToLinear,
    refCompress: refUlawCompress,
    refExpand: refUlawExpand,
    oracle: alawmulaw.mulaw,
  },
  {
    name: 'A-law',
    encode: alawEncode,
    decode: alawDecode,
    one: linearToAlaw,
    toLinear: alawToLinear,
    refCompress: refAlawCompress,
    refExpand: refAlawExpand,
    oracle: alawmulaw.alaw,
  },
];

for (const law of laws) {
  describe(`G.711 ${law.name}`, () => {
    it('encodes all 65,536 inputs exactly as the G.191 reference', () => {
      const codes = law.encode(allInputs());
      let mismatches = 0;
      for (let x = -32768; x < 32768; x++) {
        const want = law.refCompress(x);
        if (codes[x + 32768] !== want || law.one(x) !== want) mismatches++;
      }
      assert.equal(mismatches, 0);
    });

    it('decodes all 256 codes exactly as G.191 and as alawmulaw', () => {
      const pcm = law.decode(allCodes());
      for (let c = 0; c < 256; c++) {
        assert.equal(pcm[c], law.refExpand(c) | 0, `code ${c} vs G.191`);
        assert.equal(pcm[c], law.oracle.decodeSample(c) | 0, `code ${c} vs alawmulaw`);
        assert.equal(law.toLinear(c), pcm[c]);
      }
    });

    it('differs from alawmulaw encode only on the 127 negative threshold inputs, by one step', () => {
      const ours = law.encode(allInputs());
      const theirs = alawmulaw[law.name === 'mu-law' ? 'mulaw' : 'alaw'].encode(allInputs());
      const differing: number[] = [];
      for (let i = 0; i < 65536; i++) if (ours[i] !== theirs[i]) differing.push(i - 32768);
      // The documented set, derived from G.191 alone: negative x where -x starts a new interval.
      const thresholds: number[] = [];
      for (let x = -32767; x < 0; x++) {
        if (law.refCompress(-x) !== law.refCompress(-x - 1)) thresholds.push(x);
      }
      assert.equal(thresholds.length, 127);
      assert.deepEqual(differing, thresholds);
      // Negative output levels, loudest first (μ-law's 0x7f, a negative zero, decodes to 0).
      const levels = [...new Set(law.decode(allCodes()))].filter((v) => v <= 0).sort((a, b) => a - b);
      for (const x of differing) {
        const mine = levels.indexOf(law.toLinear(ours[x + 32768]!));
        const other = levels.indexOf(law.toLinear(theirs[x + 32768]!));
        assert.equal(mine - other, 1, `input ${x}: alawmulaw is one level louder`);
      }
    });

    it('round-trips every code through decode and encode', () => {
      const codes = allCodes();
      const again = law.encode(law.decode(codes));
      for (let c = 0; c < 256; c++) {
        // μ-law has two zeros (0x7f is -0, 0xff is +0); encoding 0 gives 0xff.
        if (law.name === 'mu-law' && c === 0x7f) assert.equal(again[c], 0xff);
        else assert.equal(again[c], c, `code ${c}`);
      }
    });

    it('writes into a given output array and refuses a short one', () => {
      const pcm = new Int16Array([0, 1000, -1000, 32767]);
      const out = new Uint8Array(8);
      assert.equal(law.encode(pcm, out), out);
      assert.deepEqual([...out.subarray(0, 4)], [...law.encode(pcm)]);
      assert.throws(() => law.encode(pcm, new Uint8Array(3)), RangeError);
      const back = new Int16Array(4);
      assert.equal(law.decode(out.subarray(0, 4), back), back);
      assert.throws(() => law.decode(out, new Int16Array(2)), RangeError);
    });

    it('clamps and truncates out-of-range single samples', () => {
      assert.equal(law.one(40000), law.one(32767));
      assert.equal(law.one(-40000), law.one(-32768));
      assert.equal(law.one(1000.9), law.one(1000));
      assert.equal(law.one(-1000.9), law.one(-1000));
    });
  });
}

describe('G.711 transcoding table', () => {
  it('equals decode then encode for every code', () => {
    const codes = allCodes();
    assert.deepEqual([...g711TranscodeTable('ulaw')], [...alawEncode(ulawDecode(codes))]);
    assert.deepEqual([...g711TranscodeTable('alaw')], [...ulawEncode(alawDecode(codes))]);
  });
});
