/**
 * A brain's hang-up over OpenAI Realtime: the protocol has no end-of-call event, so the emulator maps it to a call
 * of the session's `end_call` tool, after the goodbye's audio; without such a tool it is dropped.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { sine } from '../media/pcm.js';
import { type OpenAIRealtimeEmulator, startOpenAIRealtimeEmulator } from './openaiRealtime.js';
import { RawRealtimeClient } from './testing.js';

let emu: OpenAIRealtimeEmulator | undefined;
let client: RawRealtimeClient | undefined;
afterEach(async () => {
  client?.close();
  await emu?.close();
});

const goodbye = () =>
  scriptedBrain([
    [
      { type: 'text', text: 'Goodbye!' },
      { type: 'audio', pcm: sine(440, 24000, 300), sampleRate: 24000 },
      { type: 'hangup', reason: 'the caller said goodbye' },
    ],
  ]);

async function respond(tools: object[]): Promise<{ type: string; [k: string]: unknown }[]> {
  emu = await startOpenAIRealtimeEmulator({ brain: goodbye(), audioSpeed: Number.POSITIVE_INFINITY });
  client = await RawRealtimeClient.connect(emu.url);
  client.send({ type: 'session.update', session: { type: 'realtime', tools } });
  client.send({ type: 'response.create' });
  return (await client.until('response.done')) as unknown as { type: string; [k: string]: unknown }[];
}

const endCall = (parameters: object) => ({ type: 'function', name: 'end_call', parameters });

test('hangup → a call to end_call after the goodbye audio, with the reason its schema asks for', async () => {
  const events = await respond([endCall({ type: 'object', properties: { reason: { type: 'string' } } })]);
  const types = events.map((e) => e.type);
  const args = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.ok(args !== undefined, 'a function call');
  assert.equal(args.name, 'end_call');
  assert.deepEqual(JSON.parse(String(args.arguments)), { reason: 'the caller said goodbye' });
  assert.ok(
    types.lastIndexOf('response.output_audio.delta') < types.indexOf('response.output_audio.done') &&
      types.indexOf('response.output_audio.done') < types.indexOf('response.function_call_arguments.done'),
    'the goodbye audio is complete before the call',
  );
  const done = events.at(-1) as unknown as { response: { status: string; output: { type: string }[] } };
  assert.equal(done.response.status, 'completed');
  assert.deepEqual(
    done.response.output.map((i) => i.type),
    ['message', 'function_call'],
  );
});

test('hangup → end_call with {} when its schema has no reason', async () => {
  const events = await respond([endCall({ type: 'object', properties: {} })]);
  const args = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(args?.arguments, '{}');
});

test('hangup without an end_call tool is dropped: the goodbye is all the client gets', async () => {
  const events = await respond([{ type: 'function', name: 'get_weather', parameters: {} }]);
  assert.ok(!events.some((e) => e.type.startsWith('response.function_call')));
  assert.ok(events.some((e) => e.type === 'response.output_audio.done'));
});
