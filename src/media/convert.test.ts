import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createConverter } from './convert.js';
import type { AudioFormat } from './format.js';
import { ALAW_8K, audioFormat, PCM16_8K, PCM16_16K, PCM16_24K, ULAW_8K } from './format.js';
import { alawEncode, ulawDecode, ulawEncode } from './g711.js';
import { initMedia } from './index.js';
import { rmsDbfs } from './level.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from './pcm.js';

/** Runs `input` through a converter in 20 ms frames; returns the joined output. */
function convertAll(from: AudioFormat, to: AudioFormat, input: Uint8Array): Buffer {
  const converter = createConverter(from, to);
  assert.ok(converter);
  const frame = (from.sampleRate / 50) * (from.encoding === 'pcm16' ? 2 : 1);
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length; at += frame)
    out.push(converter.convert(input.subarray(at, at + frame)));
  converter.destroy();
  return Buffer.concat(out);
}

describe('createConverter', () => {
  before(initMedia);

  it('returns null (passthrough) for the same format', () => {
    assert.equal(createConverter(ULAW_8K, ULAW_8K), null);
    assert.equal(createConverter(PCM16_24K, audioFormat('pcm16', 24000)), null);
  });

  it('refuses opus with a RangeError', () => {
    const opus = audioFormat('opus', 48000);
    assert.throws(() => createConverter(opus, PCM16_24K), RangeError);
    assert.throws(() => createConverter(PCM16_24K, opus), RangeError);
  });

  it('names its steps', () => {
    const steps = (from: AudioFormat, to: AudioFormat) => {
      const converter = createConverter(from, to);
      converter?.destroy();
      return converter?.steps;
    };
    assert.deepEqual(steps(ULAW_8K, PCM16_24K), ['ulaw-decode', 'resample 8000->24000', 'pcm16-encode']);
    assert.deepEqual(steps(PCM16_24K, ULAW_8K), ['pcm16-decode', 'resample 24000->8000', 'ulaw-encode']);
    assert.deepEqual(steps(PCM16_8K, ULAW_8K), ['pcm16-decode', 'ulaw-encode']);
    assert.deepEqual(steps(ULAW_8K, ALAW_8K), ['ulaw-to-alaw']);
    assert.deepEqual(steps(PCM16_16K, PCM16_24K), ['pcm16-decode', 'resample 16000->24000', 'pcm16-encode']);
  });

  it('μ-law 8k → PCM16 24k → μ-law 8k keeps a tone’s frequency (2 %) and level (1 dB)', () => {
    for (const freq of [300, 1000, 3000]) {
      const tone = sine(freq, 8000, 1000, 0.3);
      const wide = convertAll(ULAW_8K, PCM16_24K, ulawEncode(tone));
      assert.equal(wide.length, 24000 * 2);
      const back = convertAll(PCM16_24K, ULAW_8K, wide);
      assert.equal(back.length, 8000);
      // Skip the filters' start-up (a few ms) and compare the steady part.
      const steady = ulawDecode(back).subarray(800);
      const f = dominantFrequency(steady, 8000);
      assert.ok(Math.abs(f / freq - 1) < 0.02, `${freq} Hz came back as ${f.toFixed(1)} Hz`);
      const levelDiff = rmsDbfs(steady) - rmsDbfs(tone.subarray(800));
      assert.ok(Math.abs(levelDiff) < 1, `${freq} Hz level changed by ${levelDiff.toFixed(2)} dB`);
      const wideSteady = pcm16View(wide).subarray(2400);
      assert.ok(Math.abs(dominantFrequency(wideSteady, 24000) / freq - 1) < 0.02);
    }
  });

  it('accepts PCM16 frames at an odd byteOffset', () => {
    const samples = sine(440, 24000, 100, 0.5);
    const raw = pcm16Bytes(samples);
    const odd = Buffer.alloc(raw.length + 1);
    raw.copy(odd, 1);
    const unaligned = odd.subarray(1);
    assert.equal(unaligned.byteOffset % 2, 1);
    const frame = 960;
    const a = createConverter(PCM16_24K, PCM16_16K)!;
    const b = createConverter(PCM16_24K, PCM16_16K)!;
    const c = createConverter(PCM16_24K, ULAW_8K)!;
    for (let at = 0; at < raw.length; at += frame) {
      assert.deepEqual(
        a.convert(unaligned.subarray(at, at + frame)),
        b.convert(raw.subarray(at, at + frame)),
      );
      assert.equal(c.convert(unaligned.subarray(at, at + frame)).length, 160);
    }
    for (const converter of [a, b, c]) converter.destroy();
  });

  it('refuses a PCM16 frame with an odd byte count', () => {
    const converter = createConverter(PCM16_8K, ULAW_8K)!;
    assert.throws(() => converter.convert(new Uint8Array(321)), RangeError);
  });

  it('returns a fresh Buffer per call, never the input or a reused array', () => {
    const cases: [AudioFormat, AudioFormat, number][] = [
      [ULAW_8K, PCM16_8K, 160],
      [ULAW_8K, PCM16_24K, 160],
      [PCM16_8K, ULAW_8K, 320],
      [ULAW_8K, ALAW_8K, 160],
    ];
    for (const [from, to, size] of cases) {
      const converter = createConverter(from, to)!;
      const input = new Uint8Array(size).fill(0x23);
      const first = converter.convert(input);
      const copy = Buffer.from(first);
      const second = converter.convert(input);
      assert.ok(Buffer.isBuffer(first));
      assert.notEqual(first.buffer, input.buffer);
      second.fill(0);
      assert.deepEqual(first, copy, `${from.encoding}->${to.encoding} output reused`);
      converter.destroy();
      converter.destroy();
    }
  });

  it('transcodes μ-law to A-law exactly as decode then encode', () => {
    const codes = new Uint8Array(256).map((_, i) => i);
    const converter = createConverter(ULAW_8K, ALAW_8K)!;
    assert.deepEqual(new Uint8Array(converter.convert(codes)), new Uint8Array(alawEncode(ulawDecode(codes))));
  });

  it('converts PCM16 to μ-law at one rate sample for sample', () => {
    const samples = sine(700, 8000, 20, 0.4);
    const converter = createConverter(PCM16_8K, ULAW_8K)!;
    assert.deepEqual(
      new Uint8Array(converter.convert(pcm16Bytes(samples))),
      new Uint8Array(ulawEncode(samples)),
    );
  });
});
