import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rmsDbfs } from './level.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine, toneLevelDb } from './pcm.js';

describe('pcm16View / pcm16Bytes', () => {
  it('views aligned bytes without copying and copies unaligned ones', () => {
    const samples = new Int16Array([1, -2, 300, -32768, 32767]);
    const bytes = pcm16Bytes(samples);
    assert.equal(bytes.buffer, samples.buffer);
    assert.deepEqual([...bytes.subarray(0, 4)], [1, 0, 0xfe, 0xff]);
    const aligned = pcm16View(bytes);
    assert.equal(aligned.buffer, samples.buffer);
    const odd = Buffer.alloc(bytes.length + 1);
    bytes.copy(odd, 1);
    const copy = pcm16View(odd.subarray(1));
    assert.notEqual(copy.buffer, odd.buffer);
    assert.deepEqual(copy, samples);
  });

  it('refuses an odd byte count', () => {
    assert.throws(() => pcm16View(new Uint8Array(3)), RangeError);
  });
});

describe('sine / rmsDbfs / toneLevelDb / dominantFrequency', () => {
  it('makes tones of the asked length and level', () => {
    const tone = sine(1000, 16000, 500, 0.5);
    assert.equal(tone.length, 8000);
    assert.ok(Math.abs(rmsDbfs(tone) - (20 * Math.log10(0.5) - 3.01)) < 0.05);
    assert.equal(rmsDbfs(new Int16Array(100)), Number.NEGATIVE_INFINITY);
    assert.equal(rmsDbfs(new Int16Array(0)), Number.NEGATIVE_INFINITY);
  });

  it('measures a tone’s level at its frequency, and not at another', () => {
    const tone = sine(1234, 8000, 500, 0.25);
    assert.ok(Math.abs(toneLevelDb(tone, 1234, 8000) - rmsDbfs(tone)) < 0.1);
    assert.ok(toneLevelDb(tone, 2500, 8000) < rmsDbfs(tone) - 60);
    assert.equal(toneLevelDb(new Int16Array(0), 1000, 8000), Number.NEGATIVE_INFINITY);
  });

  it('finds the frequency of a tone to well under 2 %, at any level', () => {
    for (const [freq, rate, amp] of [
      [440, 8000, 0.5],
      [3000, 8000, 0.01],
      [997, 24000, 0.9],
      [7000, 48000, 0.1],
    ] as const) {
      const f = dominantFrequency(sine(freq, rate, 200, amp), rate);
      assert.ok(Math.abs(f / freq - 1) < 0.005, `${freq} Hz measured as ${f}`);
    }
    assert.equal(dominantFrequency(new Int16Array(100), 8000), 0);
  });
});
