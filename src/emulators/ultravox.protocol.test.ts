/**
 * The Ultravox emulator's join socket, driven by a raw `ws` client: states, transcripts (delta, final, ordinal,
 * role, medium), binary audio at the call's rates, user turns from the VAD, barge-in → `playback_clear_buffer`,
 * tools, text input, output medium, forced messages, hang-up, and bad messages that leave the call running.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrainPart } from '../agent/brain.js';
import { type ScriptStep, scriptedBrain } from '../agent/scriptedBrain.js';
import { dominantFrequency, pcm16View, sine } from '../media/pcm.js';
import { postJson, RawUltravoxClient, request, socketCall, userTurnPcm } from './ultravox/testing.js';
import { startUltravoxEmulator, type UltravoxEmulator } from './ultravox.js';

let emu: UltravoxEmulator | null = null;
afterEach(async () => {
  await emu?.close();
  emu = null;
});

async function call(
  script: ScriptStep[],
  body: Record<string, unknown>,
  query = '',
): Promise<{ client: RawUltravoxClient; callId: string; brain: ReturnType<typeof scriptedBrain> }> {
  const brain = scriptedBrain(script);
  emu = await startUltravoxEmulator({ brain, idSeed: 7 });
  const created = await postJson(emu.baseUrl, '/api/calls', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const client = await RawUltravoxClient.join(`${created.body.joinUrl}${query}`);
  return { client, callId: created.body.callId, brain };
}

const say = (text: string, ms: number, rate = 16000, freq = 440): BrainPart[] => [
  { type: 'text', text },
  { type: 'audio', pcm: sine(freq, rate, ms, 0.4), sampleRate: rate },
];
const userFirst = { firstSpeakerSettings: { user: {} } };
const LOOKUP = {
  temporaryTool: {
    modelToolName: 'lookup',
    description: 'Look something up',
    client: {},
    dynamicParameters: [
      { name: 'q', location: 'PARAMETER_LOCATION_BODY', schema: { type: 'string' }, required: true },
    ],
  },
};

describe('Ultravox emulator join socket', () => {
  test('the greeting: call_started, states, transcript deltas then final, binary audio at the output rate', async () => {
    const { client, callId } = await call(
      [[{ type: 'text', text: 'Hello ' }, ...say('there.', 300)]],
      socketCall(16000, {}, { outputSampleRate: 24000, clientBufferSizeMs: 30000 }),
    );
    const messages = await client.until((m) => m.type === 'state' && m.state === 'listening');
    assert.deepEqual(messages, [
      { type: 'call_started', callId },
      { type: 'state', state: 'idle' },
      { type: 'state', state: 'thinking' },
      { type: 'state', state: 'speaking' },
      { type: 'transcript', role: 'agent', medium: 'voice', delta: 'Hello ', final: false, ordinal: 0 },
      { type: 'transcript', role: 'agent', medium: 'voice', delta: 'there.', final: false, ordinal: 0 },
      { type: 'transcript', role: 'agent', medium: 'voice', text: 'Hello there.', final: true, ordinal: 0 },
      { type: 'state', state: 'listening' },
    ]);
    const audio = Buffer.concat(client.frames.map((f) => f.data));
    assert.ok(Math.abs(audio.length - 14400) <= 96, `300 ms at 24 kHz, got ${audio.length} bytes`);
    assert.ok(
      client.frames.every((f) => f.data.length <= 960),
      '20 ms chunks',
    );
    assert.ok(Math.abs(dominantFrequency(pcm16View(audio), 24000) - 440) < 5);
    client.close();
  });

  test('a user turn from the VAD reaches the brain as audio at the input rate; its transcript is a final user message', async () => {
    const { client, brain } = await call(
      [[], [{ type: 'user_transcript', text: 'hi there' }, ...say('Hi!', 100, 8000)]],
      socketCall(8000),
    );
    await client.next((m) => m.type === 'state' && m.state === 'listening');
    client.speak(userTurnPcm(8000, 500), 8000);
    const user = await client.next('transcript');
    assert.deepEqual(user, {
      type: 'transcript',
      role: 'user',
      medium: 'voice',
      text: 'hi there',
      final: true,
      ordinal: 0,
    });
    const agent = await client.next((m) => m.type === 'transcript' && m.final);
    assert.equal(agent.text, 'Hi!');
    assert.equal(agent.ordinal, 1);
    const turn = brain.turns[1]!;
    assert.equal(turn.user?.audio?.sampleRate, 8000);
    const ms = (turn.user!.audio!.pcm.length / 8000) * 1000;
    assert.ok(ms >= 500 && ms <= 1500, `the turn's audio is ${ms} ms`);
    assert.equal(turn.output.sampleRate, 8000);
    client.close();
  });

  test('barge-in while the agent speaks: playback_clear_buffer, the transcript closed as final, listening, no more audio', async () => {
    let aborted = false;
    const { client } = await call(
      [
        async function* (turn) {
          turn.signal.addEventListener('abort', () => {
            aborted = true;
          });
          yield* say('A long greeting.', 3000);
        },
      ],
      socketCall(16000),
    );
    await client.next((m) => m.type === 'state' && m.state === 'speaking');
    await sleep(300);
    client.speak(userTurnPcm(16000, 300, 100, 0), 16000);
    const after = await client.until('playback_clear_buffer');
    const clearAt = client.messages.length;
    assert.equal(after.at(-1)!.type, 'playback_clear_buffer');
    assert.deepEqual(await client.next('transcript'), {
      type: 'transcript',
      role: 'agent',
      medium: 'voice',
      text: 'A long greeting.',
      final: true,
      ordinal: 0,
    });
    assert.deepEqual(await client.next('state'), { type: 'state', state: 'listening' });
    await sleep(150);
    assert.ok(aborted, "the brain's signal was aborted");
    assert.equal(client.frames.filter((f) => f.after >= clearAt).length, 0, 'no audio after the clear');
    const sentMs = (client.audioBytes / 32000) * 1000;
    assert.ok(sentMs < 1500, `${sentMs} ms of the 3 s greeting were sent (paced to the 60 ms client buffer)`);
    client.close();
  });

  test('barge-in on audio still in the client buffer; an uninterruptible greeting is not cut', async () => {
    const buffered = await call([say('Hello.', 2000)], socketCall(16000, {}, { clientBufferSizeMs: 10000 }));
    await buffered.client.next((m) => m.type === 'state' && m.state === 'listening');
    assert.equal(buffered.client.audioBytes, 64000, 'the whole greeting was sent at once');
    buffered.client.speak(userTurnPcm(16000, 300, 100, 0), 16000);
    await buffered.client.next('playback_clear_buffer');
    buffered.client.close();
    await emu!.close();

    const firm = await call(
      [say('Listen to me.', 1500)],
      socketCall(16000, { firstSpeakerSettings: { agent: { uninterruptible: true } } }),
    );
    await firm.client.next((m) => m.type === 'state' && m.state === 'speaking');
    firm.client.speak(userTurnPcm(16000, 300, 100, 0), 16000);
    await firm.client.next((m) => m.type === 'transcript' && m.final);
    assert.equal(firm.client.messages.filter((m) => m.type === 'playback_clear_buffer').length, 0);
    firm.client.close();
  });

  test('a client tool round trip: client_tool_invocation, the conversation waits, the result is answered', async () => {
    const { client, brain } = await call(
      [
        [{ type: 'tool_call', name: 'lookup', arguments: { q: 'x' } }],
        (turn) => [{ type: 'text', text: `It is ${turn.toolResults[0]?.output}.` }],
        [{ type: 'tool_call', name: 'lookup', arguments: '{"q":"y"}' }],
        (turn) => [{ type: 'text', text: turn.toolResults[0]!.output }],
      ],
      socketCall(16000, { ...userFirst, selectedTools: [LOOKUP] }),
    );
    client.send({ type: 'user_text_message', text: 'find x' });
    assert.deepEqual(await client.next('transcript'), {
      type: 'transcript',
      role: 'user',
      medium: 'text',
      text: 'find x',
      final: true,
      ordinal: 0,
    });
    const invocation = await client.next('client_tool_invocation');
    assert.deepEqual(invocation, {
      type: 'client_tool_invocation',
      toolName: 'lookup',
      invocationId: invocation.invocationId,
      parameters: { q: 'x' },
    });
    const states = client.messages.filter((m) => m.type === 'state').map((m) => m.state);
    assert.deepEqual(states, ['idle', 'listening', 'thinking'], 'thinking while the tool runs');
    assert.deepEqual(brain.turns[0]!.tools, [
      {
        name: 'lookup',
        description: 'Look something up',
        parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
      },
    ]);
    client.send({ type: 'client_tool_result', invocationId: 'nope', result: '1' });
    assert.equal((await client.next('error')).code, 'unknown_invocation');
    client.send({
      type: 'client_tool_result',
      invocationId: invocation.invocationId,
      result: '42',
      responseType: 'tool-response',
      agentReaction: 'speaks',
      errorType: null,
      errorMessage: null,
      updateCallState: null,
    });
    assert.equal((await client.next((m) => m.type === 'transcript' && m.final)).text, 'It is 42.');
    assert.deepEqual(brain.turns[1]!.toolResults, [
      { callId: invocation.invocationId, name: 'lookup', output: '42' },
    ]);

    client.send({ type: 'user_text_message', text: 'find y' });
    const second = await client.next('client_tool_invocation');
    assert.deepEqual(second.parameters, { q: 'y' });
    client.send({
      type: 'client_tool_result',
      invocationId: second.invocationId,
      errorType: 'implementation-error',
      errorMessage: 'db down',
    });
    const failure = await client.next((m) => m.type === 'transcript' && m.final && m.role === 'agent');
    assert.equal(failure.text, 'Error (implementation-error): db down');
    client.close();
  });

  test('tool results that listen, and a hang-up result that ends the call', async () => {
    const { client, brain, callId } = await call(
      [
        [{ type: 'tool_call', name: 'lookup', arguments: {} }],
        [{ type: 'tool_call', name: 'lookup', arguments: {} }],
      ],
      socketCall(16000, { ...userFirst, selectedTools: [LOOKUP] }),
    );
    client.send({ type: 'user_text_message', text: 'one' });
    const first = await client.next('client_tool_invocation');
    client.send({
      type: 'client_tool_result',
      invocationId: first.invocationId,
      result: 'ok',
      agentReaction: 'listens',
    });
    assert.deepEqual(await client.next('state'), { type: 'state', state: 'listening' });
    assert.equal(brain.turns.length, 1, 'no answer to a "listens" result');
    client.send({ type: 'user_text_message', text: 'two' });
    const second = await client.next('client_tool_invocation');
    client.send({
      type: 'client_tool_result',
      invocationId: second.invocationId,
      result: 'bye',
      responseType: 'hang-up',
    });
    assert.equal((await client.closed).code, 1000);
    assert.equal(emu!.call(callId)!.endReason, 'agent_hangup');
  });

  test('ping → pong; malformed messages get an error and the call goes on; unknown types are ignored', async () => {
    const { client } = await call([], socketCall(16000, userFirst));
    client.send({ type: 'ping', timestamp: 1234567890.123 });
    assert.deepEqual(await client.next('pong'), { type: 'pong', timestamp: 1234567890.123 });
    client.send('this is not json');
    assert.equal((await client.next('error')).code, 'invalid_json');
    client.send({ text: 'no type' });
    assert.equal((await client.next('error')).code, 'invalid_message');
    client.send({ type: 'user_text_message', text: 42 });
    const invalid = await client.next('error');
    assert.equal(invalid.code, 'invalid_message');
    assert.match(invalid.message, /^user_text_message: /);
    client.sendAudio(new Uint8Array(3));
    assert.equal((await client.next('error')).code, 'invalid_audio');
    client.send({ type: 'spawn_thread', newThreadId: 't1' });
    client.send({ type: 'ping', timestamp: 2 });
    assert.deepEqual(await client.next('pong'), { type: 'pong', timestamp: 2 });
    assert.equal(
      client.messages.filter((m) => m.type === 'debug').length,
      0,
      'debug messages are off by default',
    );
    assert.ok(client.open);
    client.close();
  });

  test('debug messages when asked for (?experimentalMessages=debug)', async () => {
    const { client } = await call(
      [],
      socketCall(16000, userFirst),
      '?experimentalMessages=debug&apiVersion=1',
    );
    client.send({ type: 'spawn_thread', newThreadId: 't1' });
    assert.match((await client.next('debug')).message, /unknown type 'spawn_thread'/);
    client.close();
  });

  test('user text urgency: "later" adds context only, "immediate" interrupts, input_text_message is accepted', async () => {
    const { client, brain } = await call(
      [say('Hi.', 2000), [{ type: 'text', text: 'Now.' }], [{ type: 'text', text: 'Legacy.' }]],
      socketCall(16000),
    );
    await client.next((m) => m.type === 'state' && m.state === 'speaking');
    client.send({ type: 'user_text_message', text: 'note this', urgency: 'later' });
    await client.next((m) => m.type === 'transcript' && m.role === 'user');
    client.send({ type: 'user_text_message', text: 'stop', urgency: 'immediate' });
    await client.next('playback_clear_buffer');
    assert.equal(
      (
        await client.next(
          (m) => m.type === 'transcript' && m.final && m.role === 'agent' && m.text === 'Now.',
        )
      ).ordinal,
      3,
    );
    assert.equal(brain.turns[1]!.user?.text, 'stop');
    assert.ok(brain.turns[1]!.history.some((e) => e.kind === 'message' && e.text === 'note this'));
    client.send({ type: 'input_text_message', text: 'old style' });
    assert.equal(
      (await client.next((m) => m.type === 'transcript' && m.final && m.role === 'agent')).text,
      'Legacy.',
    );
    client.close();
  });

  test('set_output_medium text: transcripts in medium "text", no audio', async () => {
    const { client } = await call([[], say('Quiet.', 500)], socketCall(16000));
    await client.next((m) => m.type === 'state' && m.state === 'listening');
    client.send({ type: 'set_output_medium', medium: 'text' });
    client.send({ type: 'user_text_message', text: 'hello' });
    const final = await client.next((m) => m.type === 'transcript' && m.final && m.role === 'agent');
    assert.deepEqual(final, {
      type: 'transcript',
      role: 'agent',
      medium: 'text',
      text: 'Quiet.',
      final: true,
      ordinal: 1,
    });
    assert.equal(client.audioBytes, 0);
    client.close();
  });

  test('forced_agent_message speaks its content and runs its tool calls', async () => {
    const { client } = await call([], socketCall(16000, { ...userFirst, selectedTools: [LOOKUP] }));
    client.send({
      type: 'forced_agent_message',
      content: 'Please hold.',
      toolCalls: [{ name: 'lookup', arguments: { q: 'z' } }],
      uninterruptible: true,
    });
    const final = await client.next((m) => m.type === 'transcript' && m.final);
    assert.equal(final.text, 'Please hold.');
    assert.ok(client.audioBytes > 0, 'the forced message is voiced');
    const invocation = await client.next('client_tool_invocation');
    assert.deepEqual(invocation.parameters, { q: 'z' });
    client.close();
  });

  test('hang_up says its message, then closes 1000 ("agent_hangup"); a client close is "hangup"', async () => {
    const { client, callId } = await call([], socketCall(16000, userFirst));
    client.send({ type: 'hang_up', message: 'Goodbye!' });
    assert.equal((await client.next((m) => m.type === 'transcript' && m.final)).text, 'Goodbye!');
    assert.deepEqual(await client.closed, { code: 1000, reason: 'agent_hangup' });
    assert.equal(emu!.call(callId)!.endReason, 'agent_hangup');
    await emu!.close();

    const other = await call([], socketCall(16000, userFirst));
    other.client.close();
    await other.client.closed;
    await sleep(50);
    const view = await request(emu!.baseUrl, 'GET', `/api/calls/${other.callId}`);
    assert.equal(view.body.endReason, 'hangup');
  });

  test('maxDuration: the timeExceededMessage, then the end ("timeout")', async () => {
    const { client, callId } = await call(
      [],
      socketCall(16000, { ...userFirst, maxDuration: '0.3s', timeExceededMessage: 'Time is up.' }),
    );
    assert.equal((await client.next((m) => m.type === 'transcript' && m.final)).text, 'Time is up.');
    assert.equal((await client.closed).code, 1000);
    assert.equal(emu!.call(callId)!.endReason, 'timeout');
  });
});
