import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmsDbfs } from '../media/level.js';
import { initResampler, Resampler } from '../media/resampler.js';
import { Tts } from './tts.js';
import { findSpeechSegments, initVad, type SpeechSegment, TurnDetector, type TurnEvent } from './vad.js';

const RATE = 16000;
const TEXTS = ['What is the weather in Paris?', 'Hello, what time is it? I would like to know.', 'Goodbye.'];
/** Where each utterance is placed in a 12 s buffer, ms. */
const PLACES = [1000, 4500, 9000];
const TOTAL_MS = 12000;
const TOLERANCE_MS = 150;

/** Deterministic noise: brown (integrated, leaky) or white, scaled to `db` dBFS RMS. */
function noise(kind: 'brown' | 'white', samples: number, db: number, seed = 7): Float64Array {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return (s / 0x7fffffff) * 2 - 1;
  };
  const out = new Float64Array(samples);
  let v = 0;
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    v = kind === 'brown' ? 0.998 * v + rnd() : rnd();
    out[i] = v;
    sum += v * v;
  }
  const gain = (32768 * 10 ** (db / 20)) / Math.sqrt(sum / samples);
  for (let i = 0; i < samples; i++) out[i]! *= gain;
  return out;
}

function mix(pcm: Int16Array, extra: Float64Array): Int16Array {
  return Int16Array.from(pcm, (x, i) => Math.max(-32768, Math.min(32767, Math.round(x + extra[i]!))));
}

/** Ground truth: first and last 20 ms frame above -45 dBFS in each placed utterance. */
function truth(utterances: readonly Int16Array[]): SpeechSegment[] {
  return utterances.map((u, k) => {
    const frame = RATE / 50;
    let first = -1;
    let last = -1;
    for (let i = 0; i + frame <= u.length; i += frame) {
      if (rmsDbfs(u.subarray(i, i + frame)) > -45) {
        if (first < 0) first = i;
        last = i + frame;
      }
    }
    return { startMs: PLACES[k]! + (first * 1000) / RATE, endMs: PLACES[k]! + (last * 1000) / RATE };
  });
}

function assertSegments(
  found: readonly SpeechSegment[],
  expected: readonly SpeechSegment[],
  label: string,
): void {
  assert.equal(found.length, expected.length, `${label}: ${JSON.stringify(found)}`);
  found.forEach((seg, i) => {
    const want = expected[i]!;
    assert.ok(
      Math.abs(seg.startMs - want.startMs) <= TOLERANCE_MS,
      `${label} start ${seg.startMs} vs ${want.startMs}`,
    );
    assert.ok(Math.abs(seg.endMs - want.endMs) <= TOLERANCE_MS, `${label} end ${seg.endMs} vs ${want.endMs}`);
  });
}

describe('TurnDetector', () => {
  const tts = new Tts();
  let speech: Int16Array = new Int16Array(0);
  let expected: SpeechSegment[] = [];
  let first: Int16Array = new Int16Array(0);

  before(async () => {
    await Promise.all([initVad(), initResampler()]);
    const utterances = [];
    for (const text of TEXTS) utterances.push(await tts.synthesize(text));
    speech = new Int16Array((RATE * TOTAL_MS) / 1000);
    utterances.forEach((u, k) => {
      speech.set(u, (PLACES[k]! * RATE) / 1000);
    });
    expected = truth(utterances);
    first = utterances[0]!;
  });
  after(() => tts.close());

  it('finds each utterance in clean speech with silence gaps', () => {
    assertSegments(findSpeechSegments(speech, RATE), expected, 'clean 16k');
  });

  it('works at 8, 24 and 48 kHz (24 kHz through the resampler)', () => {
    for (const rate of [8000, 24000, 48000]) {
      const resampler = new Resampler(RATE, rate);
      const input = resampler.process(speech);
      resampler.destroy();
      assertSegments(findSpeechSegments(input, rate), expected, `${rate} Hz`);
    }
  });

  it('finds no speech in silence, low white noise or steady brown noise', () => {
    const n = speech.length;
    assert.deepEqual(findSpeechSegments(new Int16Array(n), RATE), []);
    assert.deepEqual(findSpeechSegments(mix(new Int16Array(n), noise('white', n, -60)), RATE), []);
    assert.deepEqual(findSpeechSegments(mix(new Int16Array(n), noise('white', n, -40)), RATE), []);
    // fvad alone calls this speech from start to end; the energy gate does not.
    assert.deepEqual(findSpeechSegments(mix(new Int16Array(n), noise('brown', n, -35)), RATE), []);
  });

  it('still finds the utterances under brown noise', () => {
    const noisy = mix(speech, noise('brown', speech.length, -35));
    assertSegments(findSpeechSegments(noisy, RATE), expected, 'brown noise -35 dBFS');
  });

  it('reports start and end on the input timeline, independent of chunk size', () => {
    const events: TurnEvent[] = [];
    const detector = new TurnDetector({ sampleRate: RATE, onEvent: (e) => events.push(e) });
    for (let at = 0; at < speech.length; at += 117) detector.push(speech.subarray(at, at + 117));
    detector.flush();
    detector.destroy();
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'speech_started',
        'speech_stopped',
        'speech_started',
        'speech_stopped',
        'speech_started',
        'speech_stopped',
      ],
    );
    const whole = findSpeechSegments(speech, RATE);
    assert.deepEqual(
      events.filter((e) => e.type === 'speech_started').map((e) => e.atMs),
      whole.map((s) => s.startMs),
    );
    for (const e of events) {
      if (e.type === 'speech_started')
        assert.ok(e.detectedAtMs - e.atMs >= 80 && e.detectedAtMs - e.atMs < 200);
      else assert.ok(e.detectedAtMs - e.atMs >= 500 && e.detectedAtMs - e.atMs < 600);
    }
  });

  it('honours startMs and endMs', () => {
    // Two bursts of the first utterance 300 ms apart: one turn with endMs 500, two with endMs 200.
    const u = speech.subarray((expected[0]!.startMs * RATE) / 1000, (expected[0]!.endMs * RATE) / 1000);
    const gap = (RATE * 300) / 1000;
    const pair = new Int16Array(RATE + 2 * u.length + gap);
    pair.set(u, RATE / 2);
    pair.set(u, RATE / 2 + u.length + gap);
    assert.equal(findSpeechSegments(pair, RATE, { endMs: 500 }).length, 1);
    assert.equal(findSpeechSegments(pair, RATE, { endMs: 200 }).length, 2);
    // 60 ms of a vowel never becomes speech with the default 80 ms start, and does with 40 ms.
    const click = new Int16Array(RATE);
    const from = (RATE * 700) / 1000;
    click.set(first.subarray(from, from + (RATE * 60) / 1000), RATE / 2);
    assert.equal(findSpeechSegments(click, RATE).length, 0);
    assert.equal(findSpeechSegments(click, RATE, { startMs: 40 }).length, 1);
  });

  it('rejects bad options', () => {
    assert.throws(() => new TurnDetector({ sampleRate: 4000 }), RangeError);
    assert.throws(() => new TurnDetector({ sampleRate: RATE, endMs: 0 }), RangeError);
  });
});
