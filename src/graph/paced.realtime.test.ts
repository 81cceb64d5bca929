import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameBytes, ULAW_8K } from '../media/format.js';
import { FrameClock } from './clock.js';
import { PacedStream } from './paced.js';

const FRAME = frameBytes(ULAW_8K);

describe('PacedStream with releaseOnPush', () => {
  it('a frame leaves inside push() when the far end is within the lead; a burst keeps its pacing', () => {
    const clock = new FrameClock(1000); // never ticks during the test
    const out: Uint8Array[] = [];
    const stream = new PacedStream(
      ULAW_8K,
      (f) => out.push(f),
      { leadFrames: 2, releaseOnPush: true },
      {},
      clock,
    );
    stream.push(new Uint8Array(FRAME));
    assert.equal(out.length, 1, 'released at once, no tick needed');
    stream.push(new Uint8Array(FRAME * 10));
    assert.equal(out.length, 3, 'then only up to the lead (2 ahead + the current frame)');
    assert.equal(stream.buffer.bufferedFrames, 8);
    stream.close();
    assert.equal(clock.running, false);
  });

  it('without it, push() never emits', () => {
    const clock = new FrameClock(1000);
    const out: Uint8Array[] = [];
    const stream = new PacedStream(ULAW_8K, (f) => out.push(f), {}, {}, clock);
    stream.push(new Uint8Array(FRAME));
    assert.equal(out.length, 0);
    stream.close();
  });
});
