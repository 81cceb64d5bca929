/**
 * voxgate's `OpenAIRealtimeWebSocket` against the local OpenAI Realtime emulator: standalone, and as the transport
 * of the official `RealtimeSession` (an audio turn, a barge-in with truncate, a tool call and its follow-up).
 * The official client logs through `debug` (silent) and uses console.* only on failures, which test/setup.ts
 * turns into test failures, so a mismatch cannot pass quietly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RealtimeAgent, type RealtimeItem, RealtimeSession, tool } from '@openai/agents-realtime';
import { z } from 'zod';
import type { BrainPart } from '../agent/brain.js';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { type OpenAIClientEvent, startOpenAIRealtimeEmulator } from '../emulators/openaiRealtime.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16View, sine } from '../media/pcm.js';
import { OpenAIRealtimeWebSocket } from './openaiRealtime.js';
import { waitFor } from './testHelpers.js';

const RATE = 24000;

/** Silence, a tone burst, silence: one user turn for server VAD. */
function userTurn(toneMs = 500, silenceMs = 600): ArrayBuffer {
  const lead = new Int16Array((RATE * 200) / 1000);
  const tone = sine(330, RATE, toneMs, 0.5);
  const all = new Int16Array(lead.length + tone.length + (RATE * silenceMs) / 1000);
  all.set(tone, lead.length);
  return all.buffer;
}

function concat(chunks: ArrayBuffer[]): Int16Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(new Uint8Array(c), at);
    at += c.byteLength;
  }
  return pcm16View(out);
}

const lastAssistantDone = (history: RealtimeItem[]): boolean => {
  const last = history[history.length - 1];
  return last?.type === 'message' && last.role === 'assistant' && last.status === 'completed';
};

before(() => initMedia());

describe('OpenAIRealtimeWebSocket (standalone)', () => {
  const events: OpenAIClientEvent[] = [];
  let emu: Awaited<ReturnType<typeof startOpenAIRealtimeEmulator>>;
  before(async () => {
    emu = await startOpenAIRealtimeEmulator({
      brain: toneBrain({ freqHz: 440, toneMs: 300 }),
      audioSpeed: 20,
      onClientEvent: (_id, e) => events.push(e),
    });
  });
  after(() => emu.close());

  test('connects, sends the reference session.update, and completes an audio turn', async () => {
    const t = new OpenAIRealtimeWebSocket({ url: `${emu.url}?model=gpt-realtime`, model: 'gpt-realtime' });
    const changes: string[] = [];
    t.on('connection_change', (s) => changes.push(s));
    await t.connect({ apiKey: 'sk-test' });
    assert.equal(t.status, 'connected');
    assert.equal(t.muted, null);
    assert.ok(t.connectionState.websocket !== undefined);
    assert.throws(() => t.mute(true), /Mute is not supported/);
    try {
      const audio: ArrayBuffer[] = [];
      t.on('audio', (e) => audio.push(e.data));
      const done = waitFor<unknown>((resolve) => t.on('turn_done', resolve), 'turn_done');
      const usage = waitFor<{ totalTokens: number }>(
        (resolve) => t.on('usage_update', resolve),
        'usage_update',
      );
      t.updateSessionConfig({
        audio: { input: { turnDetection: { type: 'server_vad', silenceDurationMs: 300 } } },
      });
      t.sendAudio(userTurn());
      await done;
      assert.ok((await usage).totalTokens >= 0);
      const pcm = concat(audio);
      assert.ok(
        Math.abs(pcm.length - (RATE * 300) / 1000) <= 1,
        `300 ms of audio, got ${pcm.length} samples`,
      );
      assert.ok(Math.abs(dominantFrequency(pcm, RATE) - 440) < 5);
      const first = events.find((e) => e.type === 'session.update');
      assert.deepEqual(first, {
        type: 'session.update',
        session: {
          type: 'realtime',
          model: 'gpt-realtime',
          output_modalities: ['audio'],
          audio: {
            input: {
              format: { type: 'audio/pcm', rate: 24000 },
              noise_reduction: null,
              transcription: { model: 'gpt-4o-mini-transcribe' },
              turn_detection: { type: 'semantic_vad' },
            },
            output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1 },
          },
        },
      });
      assert.ok(
        events.some(
          (e) => e.type === 'session.update' && (e.session as { tracing?: unknown }).tracing === 'auto',
        ),
      );
    } finally {
      t.close();
      t.close();
    }
    assert.equal(t.status, 'disconnected');
    assert.deepEqual(changes, ['connecting', 'connected', 'disconnected']);
    // Reconnecting after close works on the same object.
    await t.connect({ apiKey: 'sk-test' });
    assert.equal(t.status, 'connected');
    t.close();
  });

  test('sendEvent before connect and connect twice are refused with coded errors', async () => {
    const t = new OpenAIRealtimeWebSocket({ url: emu.url });
    assert.throws(() => t.sendEvent({ type: 'response.create' }), { code: 'VG_ERR_INVALID_STATE' });
    const first = t.connect({ apiKey: 'sk-test' });
    await assert.rejects(t.connect({ apiKey: 'sk-test' }), { code: 'VG_ERR_INVALID_STATE' });
    await first;
    t.close();
    await assert.rejects(new OpenAIRealtimeWebSocket({ url: emu.url }).connect({ apiKey: '' }), {
      code: 'VG_ERR_BAD_ARGUMENT',
    });
  });
});

describe('the official RealtimeSession over our transport', () => {
  async function session(agent: RealtimeAgent, emu: { url: string }) {
    const transport = new OpenAIRealtimeWebSocket({ url: `${emu.url}?model=gpt-realtime` });
    const s = new RealtimeSession(agent, {
      transport,
      model: 'gpt-realtime',
      config: { audio: { input: { turnDetection: { type: 'server_vad', silenceDurationMs: 300 } } } },
    });
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e.error));
    await s.connect({ apiKey: 'sk-test' });
    return { session: s, transport, errors };
  }

  test('audio turn: the user audio is committed by server VAD and the spoken answer lands in the history', async () => {
    const emu = await startOpenAIRealtimeEmulator({
      brain: toneBrain({ freqHz: 440, toneMs: 400 }),
      audioSpeed: 20,
    });
    const h = await session(new RealtimeAgent({ name: 'tone', instructions: 'Answer with a tone.' }), emu);
    try {
      const audio: ArrayBuffer[] = [];
      h.session.on('audio', (e) => audio.push(e.data));
      const done = waitFor<RealtimeItem[]>(
        (resolve) => h.session.on('history_updated', (hist) => lastAssistantDone(hist) && resolve(hist)),
        'the assistant message',
      );
      h.session.sendAudio(userTurn());
      const history = await done;
      assert.ok(history.some((i) => i.type === 'message' && i.role === 'user'));
      const answer = history[history.length - 1];
      const part = answer?.type === 'message' ? answer.content[0] : undefined;
      assert.equal(part?.type, 'output_audio');
      assert.equal(part?.type === 'output_audio' ? part.transcript : undefined, 'I heard you.');
      assert.ok(Math.abs(dominantFrequency(concat(audio), RATE) - 440) < 5);
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });

  test('barge-in: interrupt() cancels and truncates within the audio received; the server confirms', async () => {
    const clientEvents: OpenAIClientEvent[] = [];
    const long: BrainPart[] = [
      { type: 'text', text: 'This is a long answer that will be cut off.' },
      { type: 'audio', pcm: sine(440, RATE, 4000, 0.3), sampleRate: RATE },
    ];
    const emu = await startOpenAIRealtimeEmulator({
      brain: scriptedBrain([long]),
      audioSpeed: 4,
      onClientEvent: (_id, e) => clientEvents.push(e),
    });
    const h = await session(new RealtimeAgent({ name: 'talker', instructions: 'Talk.' }), emu);
    try {
      const firstAudio = waitFor<void>((resolve) => h.session.once('audio', () => resolve()), 'audio');
      const interrupted = waitFor<void>(
        (resolve) => h.transport.on('audio_interrupted', () => resolve()),
        'audio_interrupted',
      );
      const cancelled = waitFor<{ response: { status: string } }>(
        (resolve) => h.transport.on('response.done', (e) => resolve(e as never)),
        'response.done',
      );
      const retrieved = waitFor<unknown>(
        (resolve) => h.transport.on('conversation.item.retrieved', resolve),
        'retrieved',
      );
      h.session.sendMessage('Tell me a story.');
      await firstAudio;
      await new Promise((r) => setTimeout(r, 100));
      h.session.interrupt();
      await Promise.all([interrupted, retrieved]);
      assert.equal((await cancelled).response.status, 'cancelled');
      const types = clientEvents.map((e) => e.type);
      assert.ok(types.indexOf('response.cancel') < types.indexOf('conversation.item.truncate'));
      const truncate = clientEvents.find((e) => e.type === 'conversation.item.truncate') as {
        audio_end_ms: number;
      };
      assert.ok(truncate.audio_end_ms > 0 && truncate.audio_end_ms < 4000);
      assert.ok(
        types.includes('conversation.item.retrieve'),
        'the truncated item is re-read, as the reference does',
      );
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });

  test('function call: the tool runs, its output goes back, and the follow-up answer arrives', async () => {
    const clientEvents: OpenAIClientEvent[] = [];
    const emu = await startOpenAIRealtimeEmulator({
      audioSpeed: 20,
      onClientEvent: (_id, e) => clientEvents.push(e),
    });
    const cities: string[] = [];
    const getWeather = tool({
      name: 'get_weather',
      description: 'Current weather in a city.',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        cities.push(city);
        return `Sunny and 21 degrees in ${city}`;
      },
    });
    const agent = new RealtimeAgent({ name: 'weather', instructions: 'Use the tool.', tools: [getWeather] });
    const h = await session(agent, emu);
    try {
      const followUp = waitFor<RealtimeItem[]>(
        (resolve) =>
          h.session.on('history_updated', (hist) => {
            const last = hist[hist.length - 1];
            const part = last?.type === 'message' ? last.content[0] : undefined;
            if (
              lastAssistantDone(hist) &&
              part?.type === 'output_audio' &&
              /Sunny/.test(part.transcript ?? '')
            )
              resolve(hist);
          }),
        'the follow-up answer',
      );
      h.session.sendMessage('What is the weather in Paris?');
      const history = await followUp;
      assert.deepEqual(cities, ['Paris']);
      assert.ok(history.some((i) => i.type === 'function_call' && i.name === 'get_weather'));
      assert.ok(
        clientEvents.some(
          (e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output',
        ),
      );
      assert.equal(clientEvents.filter((e) => e.type === 'response.create').length, 2);
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });
});
