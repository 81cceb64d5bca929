import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SAMPLE_RATES } from './format.js';
import { initMedia } from './index.js';
import { rmsDbfs } from './level.js';
import { sine, toneLevelDb } from './pcm.js';
import { initResampler, Resampler, resamplerReady } from './resampler.js';

/** Feeds `input` in chunks of `chunk` samples and joins the outputs. */
function runChunked(r: Resampler, input: Int16Array, chunk: number): Int16Array {
  const parts: Int16Array[] = [];
  let total = 0;
  for (let i = 0; i < input.length; i += chunk) {
    const part = r.process(input.subarray(i, i + chunk));
    parts.push(part);
    total += part.length;
  }
  const out = new Int16Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Resamples 2 s of a tone in 20 ms chunks; returns the middle second of input and output (past the delay). */
function toneThrough(
  inRate: number,
  outRate: number,
  freq: number,
): { input: Int16Array; output: Int16Array } {
  const r = new Resampler(inRate, outRate);
  const x = sine(freq, inRate, 2000, 0.5);
  const y = runChunked(r, x, Math.floor(inRate / 50));
  r.destroy();
  return {
    input: x.subarray(inRate / 2, (inRate * 3) / 2),
    output: y.subarray(outRate / 2, (outRate * 3) / 2),
  };
}

const pairs: [number, number][] = [];
for (const a of SAMPLE_RATES) for (const b of SAMPLE_RATES) if (a !== b) pairs.push([a, b]);

// Runs first: nothing has loaded the wasm yet in this test process.
describe('resampler before initMedia()', () => {
  it('refuses to construct and says what to do', () => {
    assert.equal(resamplerReady(), false);
    assert.throws(() => new Resampler(8000, 16000), /call initMedia\(\) first/);
  });

  it('loads once; concurrent calls share one promise', async () => {
    const a = initResampler();
    const b = initResampler();
    assert.equal(a, b);
    await Promise.all([a, b, initMedia()]);
    assert.equal(resamplerReady(), true);
    assert.equal(initResampler(), a);
  });
});

describe('Resampler', () => {
  it('gives the same output fed in 20 ms chunks as fed whole, for every pair of rates', () => {
    for (const [a, b] of pairs) {
      const x = sine(997, a, 500, 0.7);
      // Add deterministic broadband content so every filter tap matters.
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + ((i * 7919) % 2001) - 1000;
      const whole = new Resampler(a, b);
      const expected = whole.process(x);
      whole.destroy();
      const chunked = new Resampler(a, b);
      const got = runChunked(chunked, x, Math.floor(a / 50));
      chunked.destroy();
      assert.equal(got.length, expected.length, `${a}->${b} length`);
      assert.deepEqual(got, expected, `${a}->${b} samples`);
    }
  });

  it('gives the same output for irregular chunk sizes', () => {
    const x = sine(440, 44100, 300, 0.5);
    const whole = new Resampler(44100, 16000);
    const expected = whole.process(x);
    whole.destroy();
    for (const chunk of [1, 7, 333, 4410]) {
      const r = new Resampler(44100, 16000);
      assert.deepEqual(runChunked(r, x, chunk), expected, `chunks of ${chunk}`);
      r.destroy();
    }
  });

  it('keeps the rate ratio exactly across 20 ms chunks', () => {
    const up = new Resampler(8000, 24000);
    const sizes = new Set<number>();
    for (let i = 0; i < 50; i++) sizes.add(up.process(new Int16Array(160)).length);
    assert.deepEqual([...sizes], [480]);
    up.destroy();
    const odd = new Resampler(48000, 11025);
    let total = 0;
    for (let i = 0; i < 50; i++) total += odd.process(new Int16Array(960)).length;
    assert.equal(total, 11025);
    odd.destroy();
  });

  it('removes a tone above the target Nyquist by at least 80 dB', () => {
    const required = ['48000->16000', '24000->16000', '16000->8000', '44100->8000', '48000->11025'];
    const tested: string[] = [];
    for (const [a, b] of pairs) {
      const freq = 1.25 * (b / 2);
      if (b > a || freq >= 0.95 * (a / 2)) continue;
      const { input, output } = toneThrough(a, b, freq);
      const leak = rmsDbfs(output) - rmsDbfs(input);
      assert.ok(leak <= -80, `${a}->${b}: ${freq} Hz leaks at ${leak.toFixed(1)} dB`);
      tested.push(`${a}->${b}`);
    }
    for (const pair of required) assert.ok(tested.includes(pair), `${pair} tested`);
  });

  it('keeps in-band tones within 0.5 dB, up to 85 % of the lower Nyquist', () => {
    for (const [a, b] of pairs) {
      for (const freq of [1000, 0.85 * (Math.min(a, b) / 2)]) {
        const { input, output } = toneThrough(a, b, freq);
        const gain = rmsDbfs(output) - rmsDbfs(input);
        assert.ok(Math.abs(gain) <= 0.5, `${a}->${b} @ ${freq} Hz: gain ${gain.toFixed(2)} dB`);
      }
    }
  });

  it('adds no image above the source Nyquist when upsampling (>= 80 dB down)', () => {
    for (const [a, b] of pairs) {
      if (b < a) continue;
      const freq = 0.85 * (a / 2);
      const { input, output } = toneThrough(a, b, freq);
      const image = toneLevelDb(output, a - freq, b) - rmsDbfs(input);
      assert.ok(image <= -80, `${a}->${b}: image at ${a - freq} Hz is ${image.toFixed(1)} dB`);
    }
  });

  it('returns a fresh array each call and grows for big chunks', () => {
    const r = new Resampler(16000, 8000);
    const a = r.process(sine(500, 16000, 20));
    const kept = a.slice();
    const b = r.process(sine(500, 16000, 20));
    b.fill(1);
    assert.deepEqual(a, kept);
    const big = r.process(sine(500, 16000, 3000));
    assert.equal(a.length + b.length + big.length, 8000 * 3.04);
    assert.equal(r.process(new Int16Array(0)).length, 0);
    r.destroy();
  });

  it('keeps working when other streams grow the wasm heap under it', () => {
    const x = sine(440, 16000, 400, 0.5);
    const whole = new Resampler(16000, 8000);
    const expected = whole.process(x);
    whole.destroy();
    const r = new Resampler(16000, 8000);
    const first = r.process(x.subarray(0, 3200));
    // About 28 MB of buffers (115 KB each): more than the module's 16 MB initial heap, so the heap grows and
    // its views are replaced.
    const others: Resampler[] = [];
    for (let i = 0; i < 250; i++) {
      const other = new Resampler(48000, 8000);
      other.process(new Int16Array(48000));
      others.push(other);
    }
    const second = r.process(x.subarray(3200));
    assert.deepEqual([...first, ...second], [...expected]);
    for (const other of others) other.destroy();
    r.destroy();
  });

  it('reports its delay, frees once, and refuses use after destroy', () => {
    const r = new Resampler(8000, 24000);
    assert.ok(r.outputLatency > 0 && r.outputLatency < 480);
    r.destroy();
    r.destroy();
    assert.throws(() => r.process(new Int16Array(160)), /after destroy/);
  });

  it('validates rates and quality', () => {
    assert.throws(() => new Resampler(0, 8000), RangeError);
    assert.throws(() => new Resampler(8000, 8000.5), RangeError);
    assert.throws(() => new Resampler(8000, 16000, 11), RangeError);
  });
});
