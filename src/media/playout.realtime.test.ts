/**
 * A real-time source through a playout buffer (audio that arrives at 1× speed, with jitter): release() lets
 * frames leave as they arrive, and jitterFrames keeps upstream stalls from turning into standing latency.
 * Found by the load benchmark (bench/load): without them an echoed call's round trip grew by 20 ms per stall.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ULAW_8K } from './format.js';
import { PlayoutBuffer, type PlayoutOptions } from './playout.js';

const frame = (): Uint8Array => new Uint8Array(160).fill(0x55);

/**
 * One frame a tick for `cycles` ticks, except that at `stallAt` the source stalls for `stallTicks` ticks and then
 * delivers the frames it owes at once. Returns the frames still queued at the end: standing latency.
 */
function streamWithStall(
  options: PlayoutOptions,
  onArrival: boolean,
  stallAt: number,
  stallTicks: number,
): number {
  const buffer = new PlayoutBuffer(ULAW_8K, options);
  const sink = (): void => {};
  let owed = 0;
  for (let t = 0; t < 200; t++) {
    if (t >= stallAt && t < stallAt + stallTicks) owed++;
    else {
      for (let i = 0; i <= owed; i++) {
        buffer.push(frame());
        if (onArrival) buffer.release(sink);
      }
      owed = 0;
    }
    buffer.tick(sink);
  }
  return buffer.bufferedFrames;
}

describe('PlayoutBuffer with a real-time source', () => {
  it('release() sends frames as they arrive while the far end holds no more than the lead', () => {
    const buffer = new PlayoutBuffer(ULAW_8K, { leadFrames: 2 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      buffer.push(frame());
      assert.equal(
        buffer.release((f) => out.push(f)),
        1,
        `frame ${i} leaves at once`,
      );
      buffer.tick((f) => out.push(f));
    }
    assert.equal(out.length, 10);
    assert.equal(buffer.playedSamples, 1600);
  });

  it('release() still paces a burst: the lead at once, then one frame a tick', () => {
    const buffer = new PlayoutBuffer(ULAW_8K, { leadFrames: 2 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) buffer.push(frame());
    assert.equal(
      buffer.release((f) => out.push(f)),
      3,
    );
    assert.equal(
      buffer.release((f) => out.push(f)),
      0,
      'nothing more before a tick',
    );
    buffer.tick((f) => out.push(f));
    assert.equal(out.length, 4);
  });

  it('frames released between ticks keep the stream alive (no end after endAfterMs)', () => {
    const ends: number[] = [];
    const buffer = new PlayoutBuffer(ULAW_8K, { endAfterMs: 100 }, { onEnd: () => ends.push(1) });
    for (let i = 0; i < 50; i++) {
      buffer.push(frame());
      buffer.release(() => {});
      buffer.tick(() => {});
    }
    assert.equal(ends.length, 0);
    assert.equal(buffer.playing, true);
  });

  it('without jitterFrames, a stall longer than the lead leaves a standing queue for the rest of the stream', () => {
    assert.ok(streamWithStall({}, false, 50, 6) > 0);
    assert.ok(streamWithStall({}, true, 50, 6) > 0);
  });

  it('with jitterFrames, a stall up to that long is caught up: nothing stays queued', () => {
    assert.equal(streamWithStall({ jitterFrames: 10 }, false, 50, 6), 0);
    assert.equal(streamWithStall({ jitterFrames: 10 }, true, 50, 6), 0);
    assert.equal(streamWithStall({ jitterFrames: 10 }, true, 50, 10), 0);
  });

  it('a gap longer than jitterFrames is a pause: the lead starts again from zero, with no catch-up burst', () => {
    const buffer = new PlayoutBuffer(ULAW_8K, { leadFrames: 1, jitterFrames: 3 });
    buffer.push(frame());
    buffer.tick(() => {});
    for (let i = 0; i < 10; i++) buffer.tick(() => {}); // still playing (endAfterMs is 1 s)
    assert.equal(buffer.playing, true);
    for (let i = 0; i < 10; i++) buffer.push(frame());
    const out: Uint8Array[] = [];
    buffer.tick((f) => out.push(f));
    assert.equal(out.length, 2, 'lead + 1, as after any underrun');
  });

  it('a new stream starts from an empty far end, not from a deficit', () => {
    const buffer = new PlayoutBuffer(ULAW_8K, { leadFrames: 1, jitterFrames: 3, endAfterMs: 60 });
    buffer.push(frame());
    buffer.tick(() => {});
    for (let i = 0; i < 3; i++) buffer.tick(() => {}); // ends after 3 empty ticks, inside the jitter allowance
    assert.equal(buffer.playing, false);
    for (let i = 0; i < 10; i++) buffer.push(frame());
    const out: Uint8Array[] = [];
    buffer.tick((f) => out.push(f));
    assert.equal(out.length, 2, 'lead + 1, as for any fresh stream');
  });

  it('validates jitterFrames', () => {
    assert.throws(() => new PlayoutBuffer(ULAW_8K, { jitterFrames: -1 }), RangeError);
    assert.throws(() => new PlayoutBuffer(ULAW_8K, { jitterFrames: 1.5 }), RangeError);
  });
});
