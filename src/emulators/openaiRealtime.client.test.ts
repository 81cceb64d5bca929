/**
 * The official `@openai/agents-realtime` 0.20 client, unchanged, against the emulator: an audio turn with server
 * VAD, a barge-in with truncation, and a tool call with its follow-up response.
 *
 * The client logs through `debug` (silent unless DEBUG is set) and uses console.error/warn only on failures,
 * which test/setup.ts turns into test failures: a protocol mismatch cannot pass quietly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  OpenAIRealtimeWebSocket,
  RealtimeAgent,
  type RealtimeItem,
  RealtimeSession,
  tool,
} from '@openai/agents-realtime';
import { z } from 'zod';
import type { BrainPart } from '../agent/brain.js';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { dominantFrequency, pcm16View, sine } from '../media/pcm.js';
import {
  type OpenAIClientEvent,
  type OpenAIRealtimeEmulator,
  startOpenAIRealtimeEmulator,
} from './openaiRealtime.js';
import { voiced } from './testing.js';

const RATE = 24000;

/** Silence, a voiced burst (speech to the turn detector), silence: one user turn for server VAD. */
function userTurn(toneMs = 500, silenceMs = 600): ArrayBuffer {
  const lead = new Int16Array((RATE * 200) / 1000);
  const tone = voiced(RATE, toneMs);
  const tail = new Int16Array((RATE * silenceMs) / 1000);
  const all = new Int16Array(lead.length + tone.length + tail.length);
  all.set(lead, 0);
  all.set(tone, lead.length);
  all.set(tail, lead.length + tone.length);
  return all.buffer;
}

function concat(chunks: ArrayBuffer[]): Int16Array {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(new Uint8Array(c), at);
    at += c.byteLength;
  }
  return pcm16View(out);
}

function waitFor<T>(subscribe: (resolve: (v: T) => void) => void, what: string, ms = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    subscribe((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

interface Harness {
  session: RealtimeSession;
  transport: OpenAIRealtimeWebSocket;
  errors: unknown[];
  clientEvents: OpenAIClientEvent[];
}

/** `serverVad: false` keeps the client's default turn detection (semantic_vad, emulated with the turn detector). */
async function connect(
  emu: OpenAIRealtimeEmulator,
  agent: RealtimeAgent,
  clientEvents: OpenAIClientEvent[],
  serverVad = true,
): Promise<Harness> {
  const transport = new OpenAIRealtimeWebSocket({ url: `${emu.url}?model=gpt-realtime` });
  const vad = {
    audio: { input: { turnDetection: { type: 'server_vad', silenceDurationMs: 300 } } },
  } as const;
  const session = new RealtimeSession(agent, {
    transport,
    model: 'gpt-realtime',
    ...(serverVad ? { config: vad } : {}),
  });
  const errors: unknown[] = [];
  session.on('error', (e) => errors.push(e.error));
  await session.connect({ apiKey: 'sk-test' });
  return { session, transport, errors, clientEvents };
}

describe('official @openai/agents-realtime client against the emulator', () => {
  test('audio turn (client defaults: semantic_vad, transcription): the server commits the audio and a response with audio arrives', async () => {
    const clientEvents: OpenAIClientEvent[] = [];
    const emu = await startOpenAIRealtimeEmulator({
      brain: toneBrain({ freqHz: 440, toneMs: 400 }),
      audioSpeed: 20,
      onClientEvent: (_id, e) => clientEvents.push(e),
    });
    const agent = new RealtimeAgent({ name: 'tone', instructions: 'Answer with a tone.' });
    const h = await connect(emu, agent, clientEvents, false);
    try {
      const audio: ArrayBuffer[] = [];
      h.session.on('audio', (e) => audio.push(e.data));
      const done = waitFor<RealtimeItem[]>(
        (resolve) =>
          h.session.on('history_updated', (history) => {
            const last = history[history.length - 1];
            if (last?.type === 'message' && last.role === 'assistant' && last.status === 'completed')
              resolve(history);
          }),
        'the assistant message',
      );
      h.session.sendAudio(userTurn());
      const history = await done;

      const user = history.find((i) => i.type === 'message' && i.role === 'user');
      assert.ok(user, 'the committed user turn is in the history');
      const assistant = history[history.length - 1];
      assert.ok(assistant?.type === 'message' && assistant.role === 'assistant');
      const part = assistant.content[0];
      assert.equal(part?.type, 'output_audio');
      assert.equal(part.type === 'output_audio' ? part.transcript : undefined, 'I heard you.');
      const pcm = concat(audio);
      assert.ok(
        Math.abs(pcm.length - (RATE * 400) / 1000) <= 1,
        `400 ms of 24 kHz audio, got ${pcm.length} samples`,
      );
      assert.ok(Math.abs(dominantFrequency(pcm, RATE) - 440) < 5);
      assert.ok(clientEvents.some((e) => e.type === 'input_audio_buffer.append'));
      assert.ok(
        !clientEvents.some((e) => e.type === 'input_audio_buffer.commit'),
        'the server committed, not the client',
      );
      const userPart = user?.type === 'message' && user.role === 'user' ? user.content[0] : undefined;
      // The input transcription (the tone brain "hears" a duration) reached the client's history.
      assert.match(
        userPart?.type === 'input_audio' ? (userPart.transcript ?? '') : '',
        /^\[1\.\d s of audio\]$/,
      );
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });

  test('barge-in: interrupt() sends response.cancel and a truncate, and the server confirms both', async () => {
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
    const h = await connect(emu, new RealtimeAgent({ name: 'talker', instructions: 'Talk.' }), clientEvents);
    try {
      const firstAudio = waitFor<void>((resolve) => h.session.once('audio', () => resolve()), 'audio');
      const seen: { type: string; [k: string]: unknown }[] = [];
      h.transport.on('*', (e: { type: string }) => seen.push(e));
      h.session.sendMessage('Tell me a story.');
      await firstAudio;
      await new Promise((r) => setTimeout(r, 150));
      const truncated = waitFor<void>(
        (resolve) => h.transport.on('conversation.item.truncated', () => resolve()),
        'conversation.item.truncated',
      );
      h.session.interrupt();
      await truncated;

      const types = clientEvents.map((e) => e.type);
      const cancelAt = types.indexOf('response.cancel');
      const truncateAt = types.indexOf('conversation.item.truncate');
      assert.ok(cancelAt >= 0 && truncateAt > cancelAt, `cancel then truncate, got ${types.join(', ')}`);
      const truncate = clientEvents[truncateAt] as Extract<
        OpenAIClientEvent,
        { type: 'conversation.item.truncate' }
      >;
      assert.ok(truncate.audio_end_ms > 0 && truncate.audio_end_ms < 4000);
      const done = seen.find((e) => e.type === 'response.done') as unknown as {
        response: { status: string; status_details: { reason: string } };
      };
      assert.equal(done.response.status, 'cancelled');
      assert.equal(done.response.status_details.reason, 'client_cancelled');
      // The client retrieves the truncated item; its transcript is cut to what was heard.
      const retrieved = await waitFor<{ item: { content: { transcript: string }[] } }>(
        (resolve) => h.transport.on('conversation.item.retrieved', (e) => resolve(e as never)),
        'conversation.item.retrieved',
      );
      const transcript = retrieved.item.content[0]?.transcript ?? '';
      assert.ok(transcript.length < 'This is a long answer that will be cut off.'.length);
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });

  test('function call: the tool runs and the follow-up response arrives', async () => {
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
    const h = await connect(emu, agent, clientEvents);
    try {
      const toolEnd = waitFor<string>(
        (resolve) => h.session.on('agent_tool_end', (_c, _a, _t, result) => resolve(result)),
        'agent_tool_end',
      );
      const followUp = waitFor<RealtimeItem[]>(
        (resolve) =>
          h.session.on('history_updated', (history) => {
            const last = history[history.length - 1];
            if (last?.type === 'message' && last.role === 'assistant' && last.status === 'completed')
              resolve(history);
          }),
        'the follow-up answer',
      );
      h.session.sendMessage('What is the weather in Paris?');
      assert.equal(await toolEnd, 'Sunny and 21 degrees in Paris');
      const history = await followUp;
      assert.deepEqual(cities, ['Paris']);
      const call = history.find((i) => i.type === 'function_call');
      assert.ok(call?.type === 'function_call' && call.name === 'get_weather');
      const answer = history[history.length - 1];
      const part = answer?.type === 'message' ? answer.content[0] : undefined;
      assert.match(
        part?.type === 'output_audio' ? (part.transcript ?? '') : '',
        /Sunny and 21 degrees in Paris/,
      );
      const output = clientEvents.find(
        (e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output',
      );
      assert.ok(output, 'the client sent the function_call_output');
      assert.equal(clientEvents.filter((e) => e.type === 'response.create').length, 2);
      assert.deepEqual(h.errors, []);
    } finally {
      h.session.close();
      await emu.close();
    }
  });
});
