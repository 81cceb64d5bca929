/**
 * Raw-protocol tests with a plain `ws` client: event sequences, required fields (every event is also checked
 * against the official client's schemas), turn detection, items, responses, tool calls, formats.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { BrainPart, BrainTurn } from '../agent/brain.js';
import { type ScriptedBrain, scriptedBrain } from '../agent/scriptedBrain.js';
import { alawDecode, ulawEncode } from '../media/g711.js';
import { dominantFrequency, pcm16Bytes, sine } from '../media/pcm.js';
import { type OpenAIRealtimeEmulator, startOpenAIRealtimeEmulator } from './openaiRealtime.js';
import { officialClientProblem, RawRealtimeClient, type ServerEvent, voiced } from './testing.js';

const RATE = 24000;
/** An untyped view of a wire payload (JSON.parse's own result type), for poking at nested fields. */
type Json = ReturnType<typeof JSON.parse>;
const json = (v: unknown): Json => v;
const silence = (ms: number, rate = RATE): Int16Array => new Int16Array((rate * ms) / 1000);

function join(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const b64 = (pcm: Int16Array): string => pcm16Bytes(pcm).toString('base64');
const append = (pcm: Int16Array) => ({ type: 'input_audio_buffer.append', audio: b64(pcm) });
const manual = {
  type: 'session.update',
  session: { type: 'realtime', audio: { input: { turn_detection: null } } },
};
const say = (text: string): BrainPart[] => [
  { type: 'text', text },
  { type: 'audio', pcm: sine(440, RATE, 300, 0.3), sampleRate: RATE },
];
const userText = (text: string, id?: string) => ({
  type: 'conversation.item.create',
  item: { ...(id ? { id } : {}), type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
});

let emu: OpenAIRealtimeEmulator;
let brain: ScriptedBrain;
let client: RawRealtimeClient;

async function start(
  script: Parameters<typeof scriptedBrain>[0],
  options: Parameters<typeof startOpenAIRealtimeEmulator>[0] = {},
) {
  brain = scriptedBrain(script);
  emu = await startOpenAIRealtimeEmulator({ brain, audioSpeed: Number.POSITIVE_INFINITY, ...options });
  client = await RawRealtimeClient.connect(`${emu.url}?model=gpt-realtime`);
  return client.next('session.created');
}

async function assertAllValid(events: readonly ServerEvent[]): Promise<void> {
  for (const e of events) {
    assert.equal(typeof e.event_id, 'string', `${e.type} has an event_id`);
    assert.equal(await officialClientProblem(e), null);
  }
}

afterEach(async () => {
  await assertAllValid(client.events);
  client.close();
  await emu.close();
});

describe('session', () => {
  test('session.created carries the full session with server VAD defaults', async () => {
    const created = await start([]);
    const s = json(created.session);
    assert.equal(s.type, 'realtime');
    assert.equal(s.object, 'realtime.session');
    assert.match(String(s.id), /^sess_/);
    assert.equal(s.model, 'gpt-realtime');
    assert.deepEqual(s.output_modalities, ['audio']);
    assert.equal(s.tool_choice, 'auto');
    assert.deepEqual(s.tools, []);
    assert.equal(s.max_output_tokens, 'inf');
    assert.equal(s.tracing, null);
    assert.ok(Number(s.expires_at) > Date.now() / 1000);
    assert.deepEqual(s.audio.input.turn_detection, {
      type: 'server_vad',
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: 200,
      idle_timeout_ms: null,
      create_response: true,
      interrupt_response: true,
    });
    assert.deepEqual(s.audio.output, {
      format: { type: 'audio/pcm', rate: 24000 },
      voice: 'alloy',
      speed: 1,
    });
  });

  test('session.update merges only what is given and answers with the full session', async () => {
    await start([]);
    client.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
        audio: { input: { turn_detection: { type: 'semantic_vad' } }, output: { voice: 'marin' } },
      },
    });
    let s = json((await client.next('session.updated')).session);
    assert.equal(s.instructions, 'Be brief.');
    assert.equal(s.tools.length, 1);
    const audio = s.audio;
    assert.deepEqual(audio.input.turn_detection, {
      type: 'semantic_vad',
      eagerness: 'auto',
      create_response: true,
      interrupt_response: true,
    });
    assert.equal(audio.output.voice, 'marin');
    assert.equal(audio.output.speed, 1, 'untouched fields keep their value');
    client.send({
      type: 'session.update',
      session: { type: 'realtime', instructions: '', tools: [], audio: { input: { turn_detection: null } } },
    });
    s = json((await client.next('session.updated')).session);
    assert.equal(s.instructions, '');
    assert.deepEqual(s.tools, []);
    assert.equal(s.audio.input.turn_detection, null);
  });

  test('the voice cannot change once audio was produced', async () => {
    await start([say('hi')]);
    client.send({ type: 'response.create' });
    await client.next('response.done');
    client.send({
      type: 'session.update',
      event_id: 'v1',
      session: { type: 'realtime', audio: { output: { voice: 'cedar' } } },
    });
    const err = await client.next('error');
    assert.equal(err.error.param, 'session.audio.output.voice');
    assert.equal(err.error.event_id, 'v1');
  });
});

describe('input audio buffer', () => {
  test('manual commit: committed, then the user item added and done; clear answers cleared', async () => {
    await start([]);
    client.send(manual);
    await client.next('session.updated');
    client.send(append(sine(300, RATE, 250)));
    client.send({ type: 'input_audio_buffer.commit' });
    const events = await client.until('conversation.item.done');
    assert.deepEqual(
      events.map((e) => e.type),
      ['input_audio_buffer.committed', 'conversation.item.added', 'conversation.item.done'],
    );
    const committed = events[0] as Extract<ServerEvent, { type: 'input_audio_buffer.committed' }>;
    const done = events[2] as Extract<ServerEvent, { type: 'conversation.item.done' }>;
    assert.equal(done.item.id, committed.item_id);
    assert.deepEqual((done.item as { content: unknown }).content, [
      { type: 'input_audio', transcript: null },
    ]);
    client.send(append(sine(300, RATE, 50)));
    client.send({ type: 'input_audio_buffer.clear' });
    await client.next('input_audio_buffer.cleared');
    client.send({ type: 'conversation.item.retrieve', item_id: committed.item_id });
    const retrieved = await client.next('conversation.item.retrieved');
    const audio = Buffer.from(
      String((retrieved.item as { content: { audio: string }[] }).content[0]?.audio),
      'base64',
    );
    assert.equal(audio.length, RATE * 2 * 0.25, 'the retrieved item carries the committed audio');
    assert.equal(brain.turns.length, 0, 'a manual commit never creates a response');
  });

  test('server VAD: speech_started/stopped on the input timeline, committed, then a response', async () => {
    await start([say('I heard you.')]);
    client.send(append(join(silence(1000), voiced(RATE, 600), silence(500))));
    const started = await client.next('input_audio_buffer.speech_started');
    const stopped = await client.next('input_audio_buffer.speech_stopped');
    const committed = await client.next('input_audio_buffer.committed');
    assert.ok(
      Math.abs(started.audio_start_ms - 700) <= 40,
      `start 1000 ms − 300 ms padding, got ${started.audio_start_ms}`,
    );
    assert.ok(
      Math.abs(stopped.audio_end_ms - 1800) <= 40,
      `end 1600 ms + 200 ms silence, got ${stopped.audio_end_ms}`,
    );
    assert.equal(stopped.item_id, started.item_id);
    assert.equal(committed.item_id, started.item_id);
    await client.next('response.done');
    const turn = brain.turns[0]!;
    assert.equal(turn.user?.itemId, started.item_id);
    const ms = ((turn.user?.audio?.pcm.length ?? 0) * 1000) / RATE;
    assert.ok(Math.abs(ms - 1100) <= 40, `the item holds padding + speech + silence, got ${ms} ms`);
    assert.equal(turn.user?.audio?.sampleRate, RATE);
  });

  test('G.711: μ-law input drives the VAD, A-law output carries the answer at 8 kHz', async () => {
    await start([
      [
        { type: 'text', text: 'ok' },
        { type: 'audio', pcm: sine(500, RATE, 400, 0.3), sampleRate: RATE },
      ],
    ]);
    client.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcma' } } },
      },
    });
    await client.next('session.updated');
    const ulaw = ulawEncode(join(silence(300, 8000), voiced(8000, 500), silence(400, 8000)));
    client.send({ type: 'input_audio_buffer.append', audio: Buffer.from(ulaw).toString('base64') });
    const created = await client.next('response.created');
    assert.deepEqual(created.response.audio?.output?.format, { type: 'audio/pcma' });
    const chunks: Buffer[] = [];
    for (;;) {
      const e = await client.nextMatching(
        (x) => x.type === 'response.output_audio.delta' || x.type === 'response.done',
      );
      if (e.type !== 'response.output_audio.delta') break;
      chunks.push(Buffer.from(e.delta, 'base64'));
    }
    const pcm = alawDecode(Buffer.concat(chunks));
    assert.ok(Math.abs(pcm.length - 3200) <= 8, `400 ms at 8 kHz, got ${pcm.length} samples`);
    assert.ok(Math.abs(dominantFrequency(pcm.subarray(400, 2800), 8000) - 500) < 10);
    assert.equal(brain.turns[0]?.user?.audio?.sampleRate, 8000);
  });
});

describe('responses', () => {
  test('an audio response has the complete GA event sequence and usage', async () => {
    await start([say('Hello there.')]);
    client.send({ type: 'response.create' });
    const events = await client.until('response.done');
    const types = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    assert.deepEqual(types, [
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio_transcript.delta',
      'response.output_audio.delta',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const done = events[events.length - 1] as Extract<ServerEvent, { type: 'response.done' }>;
    assert.equal(done.response.status, 'completed');
    assert.equal(done.response.output?.length, 1);
    assert.deepEqual(json(done.response.output)[0].content, [
      { type: 'output_audio', transcript: 'Hello there.' },
    ]);
    assert.ok((done.response.usage?.output_tokens ?? 0) > 0);
    assert.ok(done.response.usage?.input_token_details && done.response.usage.output_token_details);
  });

  test('output_modalities ["text"] gives output_text events and no audio', async () => {
    await start([say('Just text.')]);
    client.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const types = (await client.until('response.done')).map((e) => e.type);
    assert.ok(types.includes('response.output_text.delta') && types.includes('response.output_text.done'));
    assert.ok(!types.some((t) => t.startsWith('response.output_audio')));
  });

  test('a function call, its output and the follow-up response', async () => {
    await start([
      [{ type: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo' } }],
      (turn: BrainTurn) => say(`It is ${turn.toolResults[0]?.output} in Oslo.`),
    ]);
    client.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: {} }],
      },
    });
    client.send(userText('Weather in Oslo?'));
    client.send({ type: 'response.create' });
    const events = await client.until('response.done');
    const types = events.map((e) => e.type);
    const from = types.indexOf('response.output_item.added');
    assert.deepEqual(types.slice(from), [
      'response.output_item.added',
      'conversation.item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const args = events.find((e) => e.type === 'response.function_call_arguments.done');
    assert.ok(args?.type === 'response.function_call_arguments.done');
    assert.equal(args.name, 'get_weather');
    assert.deepEqual(JSON.parse(args.arguments), { city: 'Oslo' });
    const item = json(events.find((e) => e.type === 'response.output_item.done')).item;
    assert.equal(item.status, 'completed');
    assert.equal(item.call_id, args.call_id);

    client.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: args.call_id, output: 'sunny' },
    });
    client.send({ type: 'response.create' });
    const done = await client.next('response.done');
    const out = done.response.output?.[0] as { content: { transcript: string }[] };
    assert.equal(out.content[0]?.transcript, 'It is sunny in Oslo.');
    assert.deepEqual(brain.turns[1]?.toolResults, [
      { callId: args.call_id, name: 'get_weather', output: 'sunny' },
    ]);
    assert.equal(brain.turns[0]?.user?.text, 'Weather in Oslo?');
  });

  test('response.cancel ends the response with status cancelled and the closing events', async () => {
    const slow = (turn: BrainTurn): AsyncIterable<BrainPart> =>
      (async function* () {
        yield { type: 'text', text: 'Wait for it' } as const;
        await new Promise((r) => turn.signal.addEventListener('abort', r, { once: true }));
      })();
    await start([slow]);
    client.send({ type: 'response.create' });
    await client.next('response.output_audio_transcript.delta');
    client.send({ type: 'response.cancel' });
    const types = (await client.until('response.done')).map((e) => e.type);
    assert.deepEqual(types, [
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const done = client.events[client.events.length - 1] as Extract<ServerEvent, { type: 'response.done' }>;
    assert.equal(done.response.status, 'cancelled');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
    assert.equal(json(done.response.output)[0].status, 'incomplete');
    assert.ok(done.response.usage, 'cancelled responses carry usage too');
    assert.equal(brain.turns[0]?.signal.aborted, true);
  });

  test('server VAD barge-in cancels the response (turn_detected) when interrupt_response is true', async () => {
    await start(
      [
        [
          { type: 'text', text: 'long' },
          { type: 'audio', pcm: sine(440, RATE, 5000, 0.3), sampleRate: RATE },
        ],
      ],
      {
        audioSpeed: 2,
      },
    );
    client.send({ type: 'response.create' });
    await client.next('response.output_audio.delta');
    client.send(append(join(silence(100), voiced(RATE, 300), silence(100))));
    await client.next('input_audio_buffer.speech_started');
    const done = await client.next('response.done');
    assert.equal(done.response.status, 'cancelled');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
  });

  test('one active response: a second response.create gets an error with its event_id; conversation "none" runs beside it', async () => {
    const slow = (): BrainPart[] => [
      { type: 'text', text: 'slow' } as const,
      { type: 'audio', pcm: sine(440, RATE, 2000, 0.3), sampleRate: RATE } as const,
    ];
    await start([slow, say('out of band')], { audioSpeed: 4 });
    client.send({ type: 'response.create' });
    await client.next('response.created');
    client.send({ type: 'response.create', event_id: 'second' });
    const err = await client.next('error');
    assert.equal(err.error.code, 'conversation_already_has_active_response');
    assert.equal(err.error.event_id, 'second');
    client.send({
      type: 'response.create',
      response: { conversation: 'none', output_modalities: ['text'], metadata: { topic: 'x' } },
    });
    const oob = await client.nextMatching(
      (e) => e.type === 'response.done' && e.response.conversation_id === null,
    );
    assert.ok(oob.type === 'response.done');
    assert.deepEqual(oob.response.metadata, { topic: 'x' });
    client.send({ type: 'response.cancel' });
    assert.equal((await client.next('response.done')).response.status, 'cancelled');
  });

  test('input transcription: the brain transcript becomes delta + completed events', async () => {
    await start([[{ type: 'user_transcript', text: 'hello robot' }, ...say('hi')]]);
    client.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-mini-transcribe' } } } },
    });
    client.send(append(join(silence(300), voiced(RATE, 400), silence(300))));
    const committed = await client.next('input_audio_buffer.committed');
    const completed = await client.next('conversation.item.input_audio_transcription.completed');
    assert.equal(completed.item_id, committed.item_id);
    assert.equal(completed.transcript, 'hello robot');
    client.send({ type: 'conversation.item.retrieve', item_id: committed.item_id });
    const retrieved = await client.next('conversation.item.retrieved');
    assert.equal(
      (retrieved.item as { content: { transcript: string }[] }).content[0]?.transcript,
      'hello robot',
    );
  });
});

describe('conversation items', () => {
  test('create with previous_item_id (root, known, unknown), retrieve, delete', async () => {
    await start([]);
    client.send(userText('one', 'item_one'));
    client.send({ ...userText('zero', 'item_zero'), previous_item_id: 'root' });
    client.send({ ...userText('half', 'item_half'), previous_item_id: 'item_zero' });
    client.send({ ...userText('lost'), previous_item_id: 'item_nope', event_id: 'c4' });
    const added = [
      await client.next('conversation.item.added'),
      await client.next('conversation.item.added'),
      await client.next('conversation.item.added'),
    ];
    assert.deepEqual(
      added.map((e) => [e.item.id, e.previous_item_id]),
      [
        ['item_one', null],
        ['item_zero', null],
        ['item_half', 'item_zero'],
      ],
    );
    const err = await client.next('error');
    assert.equal(err.error.code, 'item_not_found');
    assert.equal(err.error.param, 'previous_item_id');
    assert.equal(err.error.event_id, 'c4');
    client.send({ type: 'conversation.item.delete', item_id: 'item_half' });
    assert.equal((await client.next('conversation.item.deleted')).item_id, 'item_half');
    client.send({ type: 'conversation.item.retrieve', item_id: 'item_half', event_id: 'r1' });
    const gone = await client.next('error');
    assert.equal(gone.error.code, 'item_not_found');
    client.send({ type: 'conversation.item.retrieve', item_id: 'item_one' });
    assert.equal((await client.next('conversation.item.retrieved')).item.id, 'item_one');
  });

  test('truncate: confirmed within the audio, an error beyond it or on a user item', async () => {
    await start([say('The whole sentence here.')]);
    client.send(userText('hi', 'item_user'));
    client.send({ type: 'response.create' });
    const done = await client.next('response.done');
    const itemId = String(done.response.output?.[0]?.id);
    client.send({
      type: 'conversation.item.truncate',
      item_id: itemId,
      content_index: 0,
      audio_end_ms: 301,
      event_id: 't1',
    });
    const tooLong = await client.next('error');
    assert.equal(tooLong.error.code, 'invalid_value');
    assert.equal(tooLong.error.param, 'audio_end_ms');
    assert.equal(tooLong.error.event_id, 't1');
    client.send({
      type: 'conversation.item.truncate',
      item_id: 'item_user',
      content_index: 0,
      audio_end_ms: 0,
      event_id: 't2',
    });
    assert.equal((await client.next('error')).error.event_id, 't2');
    client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 150 });
    const truncated = await client.next('conversation.item.truncated');
    assert.deepEqual([truncated.item_id, truncated.content_index, truncated.audio_end_ms], [itemId, 0, 150]);
    client.send({ type: 'conversation.item.retrieve', item_id: itemId });
    const item = (await client.next('conversation.item.retrieved')).item as {
      content: { transcript: string; audio: string }[];
    };
    assert.equal(Buffer.from(item.content[0]!.audio, 'base64').length, RATE * 2 * 0.15);
    assert.equal(item.content[0]?.transcript, 'The whole');
  });
});
