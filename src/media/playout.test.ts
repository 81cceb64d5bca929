import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PCM16_8K, PCM16_24K, ULAW_8K } from './format.js';
import { PlayoutBuffer } from './playout.js';

/** `ms` of μ-law 8 kHz audio: 8 bytes a millisecond. */
function ulaw(ms: number): Uint8Array {
  return new Uint8Array(ms * 8).fill(0x55);
}

/** Runs `n` ticks; returns how many frames each tick released. */
function ticks(buffer: PlayoutBuffer, n: number, sink: Uint8Array[] = []): number[] {
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = sink.length;
    buffer.tick((f) => sink.push(f));
    counts.push(sink.length - before);
  }
  return counts;
}

function withEvents(options = {}) {
  const log = { starts: 0, ends: 0 };
  const buffer = new PlayoutBuffer(ULAW_8K, options, {
    onStart: () => log.starts++,
    onEnd: () => log.ends++,
  });
  return { buffer, log };
}

describe('PlayoutBuffer', () => {
  it('plays a 5 s burst as a lead of 4 frames, then one frame a tick', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(5000));
    assert.equal(buffer.bufferedFrames, 250);
    assert.equal(buffer.bufferedMs, 5000);
    const sink: Uint8Array[] = [];
    const counts = ticks(buffer, 247, sink);
    assert.deepEqual(counts.slice(0, 3), [4, 1, 1]);
    assert.ok(counts.slice(1).every((c) => c === 1));
    assert.equal(sink.length, 250);
    assert.ok(sink.every((f) => f.length === 160));
    assert.equal(buffer.bufferedFrames, 0);
    assert.equal(log.starts, 1);
    assert.equal(log.ends, 0);
  });

  it('honours leadFrames and rebuilds the lead after an underrun', () => {
    const buffer = new PlayoutBuffer(ULAW_8K, { leadFrames: 1 });
    buffer.push(ulaw(100));
    assert.deepEqual(ticks(buffer, 5), [2, 1, 1, 1, 0]);
    assert.deepEqual(ticks(buffer, 3), [0, 0, 0]);
    buffer.push(ulaw(100));
    assert.deepEqual(ticks(buffer, 5), [2, 1, 1, 1, 0]);
  });

  it('caps at maxBufferedMs: 12 s pushed keeps 10 s and counts 2 s dropped', () => {
    const buffer = new PlayoutBuffer(ULAW_8K);
    for (let i = 0; i < 12; i++) buffer.push(ulaw(1000));
    assert.equal(buffer.bufferedFrames, 500);
    assert.equal(buffer.bufferedMs, 10000);
    assert.equal(buffer.droppedFrames, 100);
    // Dropped newest: the first queued frame is the first pushed.
    const sink: Uint8Array[] = [];
    ticks(buffer, 1, sink);
    assert.equal(sink.length, 4);
    buffer.push(ulaw(80));
    assert.equal(buffer.droppedFrames, 100);
    assert.equal(buffer.bufferedFrames, 500);
  });

  it('clear empties at once: the next tick emits nothing and onEnd fires once', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(3010));
    ticks(buffer, 10);
    assert.equal(buffer.playing, true);
    assert.equal(buffer.clear(), 150 - 13);
    assert.equal(buffer.bufferedFrames, 0);
    assert.equal(buffer.bufferedMs, 0);
    assert.equal(log.ends, 1);
    assert.equal(buffer.playing, false);
    assert.equal(buffer.idle, true);
    assert.deepEqual(ticks(buffer, 60), new Array(60).fill(0));
    assert.equal(log.ends, 1);
    assert.equal(buffer.clear(), 0);
    assert.equal(log.ends, 1);
    // The 10 ms partial frame went too: 150 ms more gives exactly 7 frames, not 8.
    buffer.push(ulaw(150));
    assert.equal(buffer.bufferedFrames, 7);
  });

  it('counts the samples actually released, not those pushed', () => {
    const buffer = new PlayoutBuffer(PCM16_24K);
    buffer.push(new Uint8Array(960 * 100));
    ticks(buffer, 10);
    assert.equal(buffer.playedSamples, 13 * 480);
    buffer.clear();
    ticks(buffer, 5);
    assert.equal(buffer.resetPlayed(), 13 * 480);
    assert.equal(buffer.playedSamples, 0);
  });

  it('reports the end after exactly 1 s of empty ticks (50 ticks)', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(200));
    ticks(buffer, 7);
    assert.equal(buffer.bufferedFrames, 0);
    assert.equal(buffer.playing, true);
    ticks(buffer, 49);
    assert.equal(log.ends, 0);
    assert.equal(buffer.idle, false);
    ticks(buffer, 1);
    assert.equal(log.ends, 1);
    assert.equal(buffer.idle, true);
    ticks(buffer, 100);
    assert.equal(log.ends, 1);
  });

  it('an empty tick streak shorter than endAfterMs does not end the stream', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(100));
    ticks(buffer, 40);
    buffer.push(ulaw(100));
    ticks(buffer, 40);
    assert.equal(log.starts, 1);
    assert.equal(log.ends, 0);
  });

  it('end() pads the partial frame, plays what is queued, then fires onEnd at once', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(110));
    assert.equal(buffer.bufferedFrames, 5);
    buffer.end();
    assert.equal(buffer.bufferedFrames, 6);
    assert.equal(buffer.idle, false);
    const sink: Uint8Array[] = [];
    assert.deepEqual(ticks(buffer, 2, sink), [4, 1]);
    assert.equal(log.ends, 0);
    ticks(buffer, 1, sink);
    assert.equal(log.ends, 1);
    assert.equal(buffer.idle, true);
    assert.equal(sink.length, 6);
    assert.deepEqual(
      [...sink[5]!.subarray(75, 85)],
      [0x55, 0x55, 0x55, 0x55, 0x55, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    ticks(buffer, 100);
    assert.equal(log.ends, 1);
  });

  it('end() with nothing queued ends a playing stream at once, and is a no-op when idle', () => {
    const { buffer, log } = withEvents();
    buffer.end();
    assert.equal(log.ends, 0);
    assert.equal(buffer.idle, true);
    buffer.push(ulaw(40));
    ticks(buffer, 1);
    buffer.end();
    assert.equal(log.ends, 1);
    assert.equal(buffer.idle, true);
  });

  it('audio pushed after end() plays as a new stream after the ended one', () => {
    const { buffer, log } = withEvents();
    buffer.push(ulaw(100));
    buffer.end();
    buffer.push(ulaw(100));
    ticks(buffer, 2);
    assert.deepEqual(log, { starts: 1, ends: 1 });
    ticks(buffer, 1);
    assert.deepEqual(log, { starts: 2, ends: 1 });
    assert.equal(buffer.playing, true);
  });

  it('starts again after an end, with a fresh onStart', () => {
    const { buffer, log } = withEvents({ endAfterMs: 100 });
    buffer.push(ulaw(20));
    ticks(buffer, 6);
    assert.deepEqual(log, { starts: 1, ends: 1 });
    buffer.push(ulaw(20));
    ticks(buffer, 1);
    assert.deepEqual(log, { starts: 2, ends: 1 });
  });

  it('frames PCM16 pushed in odd byte counts', () => {
    const buffer = new PlayoutBuffer(PCM16_8K);
    for (let i = 0; i < 64; i++) buffer.push(new Uint8Array(5));
    assert.equal(buffer.bufferedFrames, 1);
    const sink: Uint8Array[] = [];
    ticks(buffer, 1, sink);
    assert.equal(sink[0]!.length, 320);
    assert.equal(buffer.playedSamples, 160);
  });

  it('validates its options', () => {
    assert.throws(() => new PlayoutBuffer(ULAW_8K, { leadFrames: -1 }), RangeError);
    assert.throws(() => new PlayoutBuffer(ULAW_8K, { maxBufferedMs: 10 }), RangeError);
    assert.throws(() => new PlayoutBuffer(ULAW_8K, { endAfterMs: -1 }), RangeError);
  });
});
