import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALAW_8K, audioFormat, frameBytes, PCM16_8K, PCM16_24K, ULAW_8K } from './format.js';
import { Framer } from './framer.js';

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** Pushes `input` in chunks cycling through `sizes`; returns the frames emitted. */
function pushAll(framer: Framer, input: Uint8Array, sizes: number[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; at < input.length; k++) {
    const size = sizes[k % sizes.length]!;
    framer.push(input.subarray(at, at + size), (f) => frames.push(f));
    at += size;
  }
  return frames;
}

describe('Framer', () => {
  for (const format of [PCM16_8K, ULAW_8K, PCM16_24K]) {
    it(`cuts odd-sized chunks into exact ${format.encoding}/${format.sampleRate} frames, bytes in order`, () => {
      const input = bytes(20011);
      const framer = new Framer(format);
      const frames = pushAll(framer, input, [1, 3, 7, 641, 2, 1000, 5]);
      const size = frameBytes(format);
      assert.equal(frames.length, Math.floor(input.length / size));
      for (const f of frames) assert.equal(f.length, size);
      assert.deepEqual(concat(frames), input.subarray(0, frames.length * size));
      assert.equal(framer.pendingBytes, input.length % size);
    });
  }

  it('emits whole frames from one big chunk and keeps the rest', () => {
    const framer = new Framer(ULAW_8K);
    const frames: Uint8Array[] = [];
    framer.push(bytes(1000), (f) => frames.push(f));
    assert.equal(frames.length, 6);
    assert.equal(framer.pendingBytes, 40);
  });

  it('hands out fresh frames: changing the input afterwards changes nothing', () => {
    const framer = new Framer(PCM16_8K);
    const input = bytes(700);
    const frames: Uint8Array[] = [];
    framer.push(input.subarray(0, 100), (f) => frames.push(f));
    framer.push(input.subarray(100), (f) => frames.push(f));
    const before = concat(frames);
    input.fill(0);
    assert.deepEqual(concat(frames), before);
    assert.notEqual(frames[0]!.buffer, input.buffer);
  });

  it('passes an owned one-frame chunk through as is, and copies whenever bytes are held back', () => {
    const framer = new Framer(ULAW_8K);
    const frames: Uint8Array[] = [];
    const whole = bytes(160);
    framer.push(whole, (f) => frames.push(f), true);
    assert.equal(frames[0], whole, 'an owned exact frame is emitted without a copy');
    framer.push(bytes(160), (f) => frames.push(f));
    assert.notEqual(frames[1]!.buffer, whole.buffer, 'a chunk not handed over is copied');
    framer.push(bytes(100), (f) => frames.push(f), true);
    const next = bytes(160);
    framer.push(next, (f) => frames.push(f), true);
    assert.equal(frames.length, 3, 'with 100 bytes held back, 160 more make one frame and leave 100');
    assert.notEqual(frames[2], next);
    assert.deepEqual(new Uint8Array(frames[2]!), concat([bytes(100), next.subarray(0, 60)]));
    assert.equal(framer.pendingBytes, 100);
  });

  it('alternates 220 and 221 samples at 11025 Hz so 20 ms is exact on average', () => {
    const format = audioFormat('pcm16', 11025);
    const framer = new Framer(format);
    const frames = pushAll(framer, bytes(11025 * 2 * 2 + 100), [333]);
    const sizes = frames.map((f) => f.length / 2);
    assert.deepEqual(sizes.slice(0, 4), [220, 221, 220, 221]);
    assert.equal(
      sizes.slice(0, 100).reduce((a, b) => a + b, 0),
      22050,
    );
    assert.equal(framer.nextFrameBytes, 440);
  });

  it('supports other frame durations', () => {
    const framer = new Framer(ULAW_8K, 10);
    const frames = pushAll(framer, bytes(800), [99]);
    assert.deepEqual(
      frames.map((f) => f.length),
      [80, 80, 80, 80, 80, 80, 80, 80, 80, 80],
    );
    assert.throws(() => new Framer(ULAW_8K, 0), RangeError);
    assert.throws(() => new Framer(ULAW_8K, 2.5), RangeError);
  });

  it('flush emits the partial remainder (whole samples only) and starts over', () => {
    const framer = new Framer(PCM16_8K);
    const frames: Uint8Array[] = [];
    framer.push(bytes(325), (f) => frames.push(f));
    framer.flush((f) => frames.push(f));
    assert.deepEqual(
      frames.map((f) => f.length),
      [320, 4],
    );
    assert.equal(framer.pendingBytes, 0);
    framer.flush((f) => frames.push(f));
    assert.equal(frames.length, 2);
  });

  it('flush with padding fills the last frame with the silence code', () => {
    const framer = new Framer(ALAW_8K);
    let last: Uint8Array | undefined;
    framer.push(new Uint8Array([1, 2, 3]), () => assert.fail('no whole frame yet'));
    framer.flush((f) => {
      last = f;
    }, true);
    assert.equal(last?.length, 160);
    assert.deepEqual([...last!.subarray(0, 4)], [1, 2, 3, 0xd5]);
    assert.equal(last![159], 0xd5);
  });

  it('reset drops held-back bytes', () => {
    const framer = new Framer(ULAW_8K);
    const frames: Uint8Array[] = [];
    framer.push(bytes(100), (f) => frames.push(f));
    framer.reset();
    assert.equal(framer.pendingBytes, 0);
    framer.push(bytes(160), (f) => frames.push(f));
    assert.deepEqual(frames, [Buffer.from(bytes(160))]);
  });
});
