/**
 * scenarios/ultravox.js, a VoxEngine scenario written the VoxEngine way, against the local Ultravox server: a
 * mu-law caller (the in-memory transport) hears the agent, talks over it (the scenario clears the buffer on
 * PlaybackClearBuffer: the caller gets at most one more frame), asks for a table (the tool round trip completes
 * through clientToolResult), and the scenario's hangUp ends the call and the session.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrainPart } from '../agent/brain.js';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { startUltravoxEmulator, type UltravoxEmulator } from '../emulators/ultravox.js';
import type { VoxgateError } from '../errors.js';
import { frameClock } from '../graph/clock.js';
import { ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, sine } from '../media/pcm.js';
import { loadScenario, startSession } from '../scenario/runtime.js';
import { MemoryTransport } from '../scenario/testing.js';

const tone = (freq: number, ms: number): BrainPart => ({
  type: 'audio',
  pcm: sine(freq, 16000, ms, 0.4),
  sampleRate: 16000,
});

const brain = scriptedBrain([
  [{ type: 'text', text: 'Welcome to the restaurant, how can I help?' }, tone(440, 4000)],
  [
    { type: 'user_transcript', text: 'a table at seven' },
    { type: 'tool_call', name: 'checkTable', arguments: { time: '19:00' } },
  ],
  (turn) => [{ type: 'text', text: `Checked: ${turn.toolResults[0]?.output}.` }, tone(500, 600)],
]);
const received: Record<string, unknown>[] = [];
const callIds = new Set<string>();
let emu: UltravoxEmulator;
const savedBaseUrl = process.env.ULTRAVOX_BASE_URL;

before(async () => {
  await initMedia();
  emu = await startUltravoxEmulator({
    brain,
    apiKey: 'uv-secret',
    onClientMessage: (id, m) => {
      callIds.add(id);
      received.push(m);
    },
  });
  process.env.ULTRAVOX_BASE_URL = emu.baseUrl;
});
after(async () => {
  if (savedBaseUrl === undefined) delete process.env.ULTRAVOX_BASE_URL;
  else process.env.ULTRAVOX_BASE_URL = savedBaseUrl;
  await emu.close();
});

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The caller speaks `pcm` (8 kHz) in real time, 20 ms frames on an absolute schedule, two frames ahead. */
async function speak(transport: MemoryTransport, pcm: Int16Array): Promise<void> {
  const bytes = ulawEncode(pcm);
  const start = performance.now();
  for (let i = 0; i * 160 < bytes.length; i++) {
    const wait = start + (i - 2) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
    transport.injectAudio(bytes.subarray(i * 160, (i + 1) * 160));
  }
}

const heardHz = (frames: Uint8Array[]): number => dominantFrequency(ulawDecode(Buffer.concat(frames)), 8000);

test('a VoxEngine Ultravox scenario: greeting, barge-in, tool round trip, hang-up', async () => {
  const scenario = await loadScenario(new URL('../../scenarios/ultravox.js', import.meta.url).href);
  const transport = new MemoryTransport(ULAW_8K);
  const session = startSession(scenario, { transport, secrets: { ULTRAVOX_API_KEY: 'uv-secret' } });
  const errors: VoxgateError[] = [];
  session.on('error', (e) => errors.push(e));
  const logs: { text: string; sent: number }[] = [];
  session.observer.on('log', (text) => logs.push({ text, sent: transport.sent.length }));
  const log = (prefix: string) => logs.find((l) => l.text.startsWith(prefix));
  const terminated = once(session, 'terminated');

  // The caller hears the agent's greeting.
  await until(() => transport.sent.length >= 25, 'the greeting');
  const greeting = heardHz(transport.sent.slice(0, 25));
  assert.ok(Math.abs(greeting - 440) < 10, `the caller hears the greeting (${greeting} Hz)`);

  // The caller talks over it: Ultravox asks to clear the buffer; the caller gets at most one more frame.
  const turn = new Int16Array(8000 * 1.4);
  turn.set(sine(300, 8000, 600, 0.5));
  const speaking = speak(transport, turn);
  await until(() => log('ultravox: playback cleared') !== undefined, 'PlaybackClearBuffer');
  const clearedAt = log('ultravox: playback cleared')!.sent;
  await sleep(250);
  const late = transport.sent.length - clearedAt;
  assert.ok(late <= 1, `${late} frames reached the caller after clearMediaBuffer()`);
  assert.ok(transport.sent.length < 150, 'most of the 4 s greeting was never played');
  await speaking;

  // The tool round trip: invocation → clientToolResult → the answer is spoken.
  await until(() => log('ultravox: tool answered') !== undefined, 'the tool invocation');
  const answeredAt = log('ultravox: tool answered')!.sent;
  const result = received.find((m) => m.type === 'client_tool_result');
  assert.ok(result !== undefined);
  assert.deepEqual(Object.keys(result).sort(), ['invocationId', 'result', 'type']);
  assert.equal(result.result, '{"free":false}');
  await until(() => transport.sent.length >= answeredAt + 20, 'the answer');
  const answer = heardHz(transport.sent.slice(answeredAt, answeredAt + 20));
  assert.ok(Math.abs(answer - 500) < 10, `the caller hears the answer (${answer} Hz)`);
  assert.deepEqual(brain.turns[2]!.toolResults, [
    { callId: result.invocationId, name: 'checkTable', output: '{"free":false}' },
  ]);
  assert.ok(logs.some((l) => l.text === 'ultravox: user: a table at seven'));
  assert.ok(logs.some((l) => l.text === 'ultravox: agent: Checked: {"free":false}.'));

  // The scenario hangs up: the agent says goodbye, Ultravox ends the call, the call and the session end.
  await terminated;
  assert.deepEqual(
    received.find((m) => m.type === 'hang_up'),
    { type: 'hang_up', message: 'Thank you, goodbye!' },
  );
  assert.ok(logs.some((l) => l.text === 'ultravox: agent: Thank you, goodbye!'));
  assert.equal(transport.closedWith, 'assistant-ended-call');
  assert.equal(callIds.size, 1);
  assert.equal(
    emu.call([...callIds][0]!)!.endReason,
    'agent_hangup',
    'Ultravox ended the call on the hang-up',
  );
  assert.deepEqual(errors, []);
  await sleep(50);
  assert.equal(frameClock.running, false, 'no paced stream or uplink is left on the clock');
});
