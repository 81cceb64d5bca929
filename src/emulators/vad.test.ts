import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnergyVad, thresholdToDbfs, type VadEvent } from './vad.js';

/** Feeds 20 ms frames at the given levels; returns the events with their frame index. */
function run(vad: EnergyVad, levels: number[]): (VadEvent & { frame: number })[] {
  const out: (VadEvent & { frame: number })[] = [];
  levels.forEach((db, i) => {
    const e = vad.process(db, i * 20, (i + 1) * 20);
    if (e !== null) out.push({ ...e, frame: i });
  });
  return out;
}

const quiet = (n: number) => Array<number>(n).fill(-90);
const loud = (n: number) => Array<number>(n).fill(-10);

test('threshold maps 0..1 to -70..-10 dBFS', () => {
  assert.equal(thresholdToDbfs(0), -70);
  assert.equal(thresholdToDbfs(0.5), -40);
  assert.equal(thresholdToDbfs(1), -10);
  assert.equal(thresholdToDbfs(7), -10);
});

test('speech starts after minSpeechMs of voiced frames, at the first voiced frame', () => {
  const events = run(new EnergyVad({ startDb: -40, silenceMs: 100 }), [
    ...quiet(5),
    -80,
    ...loud(3),
    ...quiet(10),
  ]);
  assert.deepEqual(events[0], { type: 'start', atMs: 120, frame: 7 });
  assert.deepEqual(events[1], { type: 'stop', atMs: 280, lastVoicedMs: 180, frame: 13 });
});

test('a one-frame click is not speech', () => {
  assert.deepEqual(
    run(new EnergyVad({ startDb: -40, silenceMs: 100 }), [...quiet(3), -10, ...quiet(10)]),
    [],
  );
});

test('hysteresis: a dip below the start level but above the stop level keeps speech going', () => {
  const events = run(new EnergyVad({ startDb: -40, hysteresisDb: 6, silenceMs: 60 }), [
    ...loud(3),
    -44,
    -44,
    -44,
    -44,
    ...quiet(3),
  ]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['start', 'stop'],
  );
  assert.equal(events[1]?.atMs, 200, 'stops 60 ms into the real silence (frames 7-9)');
});

test('reset forgets speech in progress', () => {
  const vad = new EnergyVad({ startDb: -40, silenceMs: 60 });
  run(vad, loud(3));
  assert.equal(vad.speaking, true);
  vad.reset();
  assert.equal(vad.speaking, false);
});
