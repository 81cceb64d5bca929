/**
 * The emulators' server-side turn detection: the shared input buffer running the agent's turn detector
 * (src/agent/vad.ts) on the input timeline, how the vendors' settings map onto it, and that every session frees
 * its detector. User speech is the synthetic vowel of ./testing.ts (fvad does not call a steady tone speech).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { initVad, TurnDetector, type TurnEvent } from '../agent/vad.js';
import { type AudioFormat, PCM16_16K, PCM16_24K, ULAW_8K } from '../media/format.js';
import { ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { pcm16Bytes } from '../media/pcm.js';
import { InputAudio, type TurnDetection, thresholdToMarginDb } from './inputAudio.js';
import { defaultServerVad } from './openaiRealtime/sessionConfig.js';
import { vadSettings } from './openaiRealtime/turns.js';
import { startOpenAIRealtimeEmulator } from './openaiRealtime.js';
import { RawRealtimeClient, voiced } from './testing.js';
import { postJson, RawUltravoxClient, socketCall, userTurnPcm } from './ultravox/testing.js';
import { activationMarginDb } from './ultravox/userAudio.js';
import { startUltravoxEmulator } from './ultravox.js';

/** OpenAI's default server_vad: 80 ms to start, 200 ms of silence to end, 9 dB margin, 300 ms padding. */
const DETECTION: TurnDetection = vadSettings(defaultServerVad());

const silence = (rate: number, ms: number): Int16Array => new Int16Array(Math.round((rate * ms) / 1000));

function join(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function wire(format: AudioFormat, pcm: Int16Array): Uint8Array {
  return format.encoding === 'ulaw' ? ulawEncode(pcm) : pcm16Bytes(pcm);
}

/** Appends `pcm` in chunks of `chunkMs` (trimming idle audio after each, as the emulators do); returns the events. */
function feed(input: InputAudio, pcm: Int16Array, chunkMs = 20): TurnEvent[] {
  const step = Math.round((input.format.sampleRate * chunkMs) / 1000);
  const events: TurnEvent[] = [];
  for (let at = 0; at < pcm.length; at += step) {
    events.push(...input.append(wire(input.format, pcm.subarray(at, at + step))));
    input.trimIdle();
  }
  return events;
}

function detecting(format: AudioFormat, detection: TurnDetection = DETECTION): InputAudio {
  const input = new InputAudio(format, 60_000);
  input.setVad(detection);
  return input;
}

/** Asserts `actual` is within one 20 ms frame of `expected`. */
function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= 20, `${what}: ${actual} vs ${expected}`);
}

before(() => Promise.all([initMedia(), initVad()]));

describe('vendor settings → the turn detector', () => {
  test('threshold maps 0..1 to a 0..18 dB margin over the noise floor; Ultravox 0.1..1 to 9..18 dB', () => {
    assert.equal(thresholdToMarginDb(0), 0);
    assert.equal(thresholdToMarginDb(0.5), 9);
    assert.equal(thresholdToMarginDb(1), 18);
    assert.equal(thresholdToMarginDb(7), 18);
    assert.equal(activationMarginDb(0.1), 9);
    assert.equal(activationMarginDb(1), 18);
  });

  test('server_vad and semantic_vad settings', () => {
    assert.deepEqual(DETECTION, { startMs: 80, endMs: 200, marginDb: 9, prefixMs: 300 });
    assert.deepEqual(
      vadSettings({
        ...defaultServerVad(),
        threshold: 0.8,
        silence_duration_ms: 650,
        prefix_padding_ms: 120,
      }),
      { startMs: 80, endMs: 650, marginDb: 18 * 0.8, prefixMs: 120 },
    );
    const semantic = (eagerness: 'low' | 'medium' | 'high' | 'auto') =>
      vadSettings({ type: 'semantic_vad', eagerness, create_response: true, interrupt_response: true }).endMs;
    assert.deepEqual((['low', 'medium', 'auto', 'high'] as const).map(semantic), [800, 500, 500, 250]);
  });
});

describe('turn detection on the input timeline', () => {
  test('speech starts at its first voiced frame and stops after the silence, at 24 kHz PCM, 16 kHz and 8 kHz μ-law', () => {
    for (const format of [PCM16_24K, PCM16_16K, ULAW_8K]) {
      const rate = format.sampleRate;
      const input = detecting(format);
      const events = feed(input, join(silence(rate, 500), voiced(rate, 600), silence(rate, 500)));
      assert.deepEqual(
        events.map((e) => e.type),
        ['speech_started', 'speech_stopped'],
        `${rate} Hz ${format.encoding}`,
      );
      near(events[0]?.atMs, 500, `${rate} start`);
      near(events[0]?.detectedAtMs, 580, `${rate} start detected after 80 ms of voice`);
      near(events[1]?.atMs, 1100, `${rate} last voice`);
      near(events[1]?.detectedAtMs, 1300, `${rate} stop detected after 200 ms of silence`);
      assert.equal(input.speaking, false);
      input.close();
    }
  });

  test('the times do not depend on the chunk size, and go on across a format change', () => {
    const pcm = join(silence(24000, 500), voiced(24000, 600), silence(24000, 500));
    const byFrame = feed(detecting(PCM16_24K), pcm, 20);
    const odd = feed(detecting(PCM16_24K), pcm, 37);
    const whole = feed(detecting(PCM16_24K), pcm, 5000);
    assert.deepEqual(odd, byFrame);
    assert.deepEqual(whole, byFrame);

    const input = detecting(PCM16_24K);
    feed(input, silence(24000, 1000));
    input.setFormat(ULAW_8K);
    const events = feed(input, join(silence(8000, 500), voiced(8000, 600), silence(8000, 500)));
    near(events[0]?.atMs, 1500, 'start after the format change');
    near(events[1]?.detectedAtMs, 2300, 'stop after the format change');
  });

  test('a click is not speech: one 20 ms frame, nor 60 ms, of loud voice; 100 ms is', () => {
    for (const ms of [20, 60]) {
      const input = detecting(PCM16_24K);
      const click = join(silence(24000, 300), voiced(24000, ms, -10), silence(24000, 500));
      assert.deepEqual(feed(input, click), [], `${ms} ms`);
      input.close();
    }
    const input = detecting(PCM16_24K);
    const burst = join(silence(24000, 300), voiced(24000, 100), silence(24000, 500));
    assert.equal(feed(input, burst).length, 2);
  });

  test('a quieter stretch and a pause shorter than the end-of-turn silence keep one turn going', () => {
    const r = 24000;
    const input = detecting(PCM16_24K);
    const dip = join(silence(r, 300), voiced(r, 300), voiced(r, 300, -28), silence(r, 120), voiced(r, 300));
    const events = feed(input, join(dip, silence(r, 400)));
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_started', 'speech_stopped'],
    );
    near(events[1]?.detectedAtMs, 1320 + 200, 'stops 200 ms into the real silence');
    // The same pause, longer than the silence: two turns.
    const two = detecting(PCM16_24K);
    const split = feed(
      two,
      join(silence(r, 300), voiced(r, 300), silence(r, 300), voiced(r, 300), silence(r, 400)),
    );
    assert.deepEqual(
      split.map((e) => e.type),
      ['speech_started', 'speech_stopped', 'speech_started', 'speech_stopped'],
    );
  });

  test('over steady noise, a higher threshold needs the voice further above it', () => {
    // White noise at -42 dBFS, a voice at -30 dBFS: 12 dB above the floor.
    const r = 24000;
    const n = r * 3;
    const pcm = new Int16Array(n);
    pcm.set(voiced(r, 800, -30), r * 1.5);
    let seed = 7;
    const noise = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      noise[i] = (seed / 0x7fffffff) * 2 - 1;
      sum += noise[i]! ** 2;
    }
    const gain = (32768 * 10 ** (-42 / 20)) / Math.sqrt(sum / n);
    const noisy = Int16Array.from(pcm, (x, i) => Math.round(x + noise[i]! * gain));
    const turns = (threshold: number): number =>
      feed(detecting(PCM16_24K, vadSettings({ ...defaultServerVad(), threshold })), noisy).filter(
        (e) => e.type === 'speech_started',
      ).length;
    assert.equal(turns(0.5), 1);
    assert.equal(turns(1), 0);
  });

  test('clear and the same settings again forget speech in progress', () => {
    const input = detecting(PCM16_24K);
    feed(input, join(silence(24000, 300), voiced(24000, 300)));
    assert.equal(input.speaking, true);
    input.clear();
    assert.equal(input.speaking, false);
    feed(input, voiced(24000, 300));
    assert.equal(input.speaking, true);
    input.setVad(DETECTION);
    assert.equal(input.speaking, false);
    input.setVad(null);
    assert.deepEqual(feed(input, join(voiced(24000, 300), silence(24000, 500))), []);
  });

  test('idle audio is trimmed to the prefix padding, but the padding before a detected start is still held', () => {
    const input = detecting(PCM16_24K);
    feed(input, silence(24000, 2000));
    assert.ok(input.heldMs < 500, `held ${input.heldMs} ms of silence`);
    const events = feed(input, voiced(24000, 300));
    const started = events[0];
    assert.equal(started?.type, 'speech_started');
    assert.ok(input.startMs <= started.atMs - 300, `held from ${input.startMs}, speech at ${started.atMs}`);
  });
});

describe('detectors are freed', () => {
  const made = new Set<TurnDetector>();
  const freed = new Set<TurnDetector>();
  const { push, destroy } = TurnDetector.prototype;
  before(() => {
    TurnDetector.prototype.push = function (this: TurnDetector, pcm: Int16Array) {
      made.add(this);
      push.call(this, pcm);
    };
    TurnDetector.prototype.destroy = function (this: TurnDetector) {
      freed.add(this);
      destroy.call(this);
    };
  });
  after(() => {
    TurnDetector.prototype.push = push;
    TurnDetector.prototype.destroy = destroy;
  });
  const leaked = () => [...made].filter((d) => !freed.has(d)).length;

  test('by close, by new settings and by a format change; audio after close is still taken', () => {
    made.clear();
    const input = detecting(PCM16_24K);
    feed(input, silence(24000, 100));
    input.setVad({ ...DETECTION, endMs: 500 });
    feed(input, silence(24000, 100));
    input.setFormat(ULAW_8K);
    feed(input, silence(8000, 100));
    assert.equal(made.size, 3);
    assert.equal(leaked(), 1);
    input.close();
    assert.equal(leaked(), 0);
    assert.deepEqual(feed(input, join(voiced(8000, 300), silence(8000, 500))), []);
    assert.ok(input.heldMs > 700);
  });

  test('when an OpenAI Realtime session or an Ultravox call ends', async () => {
    made.clear();
    const openai = await startOpenAIRealtimeEmulator({ audioSpeed: Number.POSITIVE_INFINITY });
    const ultravox = await startUltravoxEmulator({});
    try {
      for (let i = 0; i < 2; i++) {
        const client = await RawRealtimeClient.connect(`${openai.url}?model=gpt-realtime`);
        await client.next('session.created');
        client.send({
          type: 'input_audio_buffer.append',
          audio: pcm16Bytes(silence(24000, 200)).toString('base64'),
        });
        await client.drain(50);
        client.close();
        await client.closed;
      }
      const created = await postJson(ultravox.baseUrl, '/api/calls', socketCall(16000));
      const call = await RawUltravoxClient.join(created.body.joinUrl);
      call.speak(userTurnPcm(16000, 300), 16000);
      await call.next('call_started');
      await call.next((m) => m.type === 'state' && m.state === 'listening');
      call.close();
      await call.closed;
      const deadline = Date.now() + 3000;
      while ((openai.sessions > 0 || ultravox.activeCalls > 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(made.size, 3, 'two sessions and one call ran a detector');
      assert.equal(leaked(), 0);
    } finally {
      await openai.close();
      await ultravox.close();
    }
  });
});
