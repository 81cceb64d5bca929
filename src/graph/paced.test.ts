import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { frameBytes, ULAW_8K } from '../media/format.js';
import { FrameClock } from './clock.js';
import { PacedStream } from './paced.js';

const FRAME = frameBytes(ULAW_8K);

describe('PacedStream', () => {
  it('releases a burst over time, reports start and end, and leaves the clock when done', () => {
    const clock = new FrameClock(1000); // never fires during the test: the ticks are the test's onTick() calls
    const out: Uint8Array[] = [];
    const events: string[] = [];
    const stream = new PacedStream(
      ULAW_8K,
      (f) => out.push(f),
      { leadFrames: 2, endAfterMs: 100 },
      { onStart: () => events.push('start'), onEnd: () => events.push('end') },
      clock,
    );
    stream.push(new Uint8Array(FRAME * 10));
    assert.equal(out.length, 0, 'nothing leaves before a tick');
    assert.equal(clock.running, true, 'a stream with audio joins the clock');
    stream.onTick();
    assert.equal(out.length, 3, 'the first tick sends the lead (2) and its own frame');
    stream.onTick();
    assert.equal(out.length, 4, 'then one frame a tick');
    stream.end();
    for (let i = 0; i < 20 && clock.running; i++) stream.onTick();
    assert.equal(out.length, 10);
    assert.deepEqual(events, ['start', 'end']);
    assert.equal(clock.running, false, 'an idle stream leaves the clock');
    assert.equal(stream.buffer.playedSamples, 1600);
  });

  it('held: audio queues off the clock and nothing leaves until resume(), then it plays from its start', async () => {
    const clock = new FrameClock(2);
    const out: Uint8Array[] = [];
    const events: string[] = [];
    const stream = new PacedStream(
      ULAW_8K,
      (f) => out.push(f),
      { leadFrames: 2, releaseOnPush: true, held: true, endAfterMs: 100 },
      { onStart: () => events.push('start'), onEnd: () => events.push('end') },
      clock,
    );
    for (let i = 0; i < 6; i++) stream.push(new Uint8Array(FRAME).fill(i), true);
    await sleep(10);
    assert.equal(out.length, 0, 'nothing leaves while held');
    assert.equal(clock.running, false, 'a held stream is not on the clock');
    assert.deepEqual(events, []);
    stream.resume();
    assert.equal(out.length, 3, 'the lead leaves at once on resume');
    assert.equal(out[0]![0], 0, 'from the first frame queued');
    stream.resume();
    stream.end();
    for (let i = 0; i < 50 && clock.running; i++) await sleep(5);
    assert.deepEqual(
      out.map((f) => f[0]),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(events, ['start', 'end']);
  });

  it('clear stops the flow on the next tick', () => {
    const clock = new FrameClock(1000); // ticks by hand
    const out: Uint8Array[] = [];
    const stream = new PacedStream(ULAW_8K, (f) => out.push(f), { leadFrames: 0 }, {}, clock);
    stream.push(new Uint8Array(FRAME * 100));
    for (let i = 0; i < 3; i++) stream.onTick();
    const dropped = stream.clear();
    assert.equal(out.length, 3, 'one frame a tick with no lead');
    assert.equal(dropped, 97);
    for (let i = 0; i < 5; i++) stream.onTick();
    assert.equal(out.length, 3, 'nothing after clear');
    stream.close();
    assert.equal(clock.running, false);
  });

  it('end() after a partial frame rejoins the clock and plays it', async () => {
    const clock = new FrameClock(2);
    const out: Uint8Array[] = [];
    const events: string[] = [];
    const stream = new PacedStream(
      ULAW_8K,
      (f) => out.push(f),
      {},
      { onEnd: () => events.push('end') },
      clock,
    );
    stream.push(new Uint8Array(FRAME / 2));
    for (let i = 0; i < 20 && clock.running; i++) await sleep(2);
    stream.end();
    for (let i = 0; i < 20 && clock.running; i++) await sleep(2);
    assert.equal(out.length, 1, 'the padded partial frame plays');
    assert.deepEqual(events, ['end']);
    assert.equal(clock.running, false);
  });
});
