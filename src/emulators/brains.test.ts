/** The brains behind the emulators, driven directly through the seam (no socket). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrainPart, BrainTurn } from '../agent/brain.js';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { dominantFrequency, sine } from '../media/pcm.js';

function turn(partial: Partial<BrainTurn> = {}): BrainTurn {
  return {
    toolResults: [],
    history: [],
    tools: [],
    instructions: '',
    output: { audio: true, sampleRate: 24000 },
    signal: new AbortController().signal,
    ...partial,
  };
}

async function collect(parts: AsyncIterable<BrainPart>): Promise<BrainPart[]> {
  const out: BrainPart[] = [];
  for await (const p of parts) out.push(p);
  return out;
}

const textOf = (parts: BrainPart[]) => parts.map((p) => (p.type === 'text' ? p.text : '')).join('');

test('tone brain: an audio turn gets a duration transcript, text and a tone at the asked rate', async () => {
  const session = toneBrain({ freqHz: 500, toneMs: 200 }).openSession({ sessionId: 's' });
  const parts = await collect(
    session.respond(
      turn({
        user: { itemId: 'i', audio: { pcm: sine(300, 8000, 1500), sampleRate: 8000 } },
        output: { audio: true, sampleRate: 8000 },
      }),
    ),
  );
  assert.deepEqual(parts[0], { type: 'user_transcript', text: '[1.5 s of audio]' });
  assert.equal(textOf(parts), 'I heard you.');
  const audio = parts.find((p) => p.type === 'audio');
  assert.ok(audio?.type === 'audio');
  assert.equal(audio.sampleRate, 8000);
  assert.equal(audio.pcm.length, 1600);
  assert.ok(Math.abs(dominantFrequency(audio.pcm, 8000) - 500) < 5);
});

test('tone brain: "weather in <city>" calls get_weather only when the tool is offered', async () => {
  const session = toneBrain().openSession({ sessionId: 's' });
  const user = { itemId: 'i', text: "What's the weather in New York today?" };
  const withTool = await collect(session.respond(turn({ user, tools: [{ name: 'get_weather' }] })));
  assert.deepEqual(withTool, [{ type: 'tool_call', name: 'get_weather', arguments: { city: 'New York' } }]);
  const without = await collect(session.respond(turn({ user })));
  assert.match(textOf(without), /^You said: What's the weather/);
});

test('tone brain: a tool result is read back; text-only turns get no audio', async () => {
  const session = toneBrain().openSession({ sessionId: 's' });
  const parts = await collect(
    session.respond(
      turn({
        toolResults: [{ callId: 'c', name: 'get_weather', output: 'rain' }],
        output: { audio: false, sampleRate: 24000 },
      }),
    ),
  );
  assert.equal(textOf(parts), 'get_weather says: rain');
  assert.ok(!parts.some((p) => p.type === 'audio'));
});

test('scripted brain: steps per session, functions of the turn, recorded turns, aborts', async () => {
  const brain = scriptedBrain([
    [{ type: 'text', text: 'one' }],
    (t) => [{ type: 'text', text: `two:${t.user?.text}` }],
  ]);
  const a = brain.openSession({ sessionId: 'a' });
  const b = brain.openSession({ sessionId: 'b' });
  assert.equal(textOf(await collect(a.respond(turn()))), 'one');
  assert.equal(textOf(await collect(a.respond(turn({ user: { itemId: 'u', text: 'x' } })))), 'two:x');
  assert.deepEqual(await collect(a.respond(turn())), [], 'past the script: an empty answer');
  assert.equal(textOf(await collect(b.respond(turn()))), 'one', 'each session starts over');
  assert.equal(brain.turns.length, 4);
  assert.equal(brain.sessions, 2);
  const aborted = new AbortController();
  aborted.abort();
  assert.deepEqual(
    await collect(brain.openSession({ sessionId: 'c' }).respond(turn({ signal: aborted.signal }))),
    [],
  );
});
