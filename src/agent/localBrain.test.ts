import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrainHistoryEntry, BrainPart, BrainTurn } from './brain.js';
import { localBrain } from './localBrain.js';
import { detectRecognizer, groupAlive } from './recognizer.js';
import { Tts } from './tts.js';

const OUT_RATE = 24000;
const recognizer = detectRecognizer();

function turn(fields: Partial<BrainTurn> = {}): BrainTurn {
  return {
    toolResults: [],
    history: [],
    tools: [{ name: 'get_weather', description: 'Weather for a city' }],
    instructions: '',
    output: { audio: true, sampleRate: OUT_RATE },
    signal: new AbortController().signal,
    ...fields,
  };
}

async function collect(parts: AsyncIterable<BrainPart>): Promise<BrainPart[]> {
  const out: BrainPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

function textOf(parts: readonly BrainPart[]): string {
  return parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

function audioMs(parts: readonly BrainPart[]): number {
  return parts.reduce((ms, p) => (p.type === 'audio' ? ms + (p.pcm.length * 1000) / p.sampleRate : ms), 0);
}

describe('localBrain', () => {
  const tts = new Tts();
  const brain = localBrain({ tts, now: () => new Date(Date.UTC(2025, 2, 14, 15, 7)), timeZone: 'UTC' });
  /** Caller audio, made once: the question at 24 kHz (OpenAI's rate) and at 8 kHz (a G.711 caller). */
  let question24k: Int16Array = new Int16Array(0);
  let question8k: Int16Array = new Int16Array(0);

  before(async () => {
    question24k = await tts.synthesize('What is the weather in Paris?', { sampleRate: 24000 });
    question8k = await tts.synthesize('What is the weather in Paris?', { sampleRate: 8000 });
  });
  after(async () => {
    await brain.close();
    await tts.close();
  });

  it('greets at the start, then reprompts, speaking text and audio at the asked rate', async () => {
    const session = brain.openSession({ sessionId: 'sess_greet' });
    const greeting = await collect(session.respond(turn()));
    assert.match(textOf(greeting), /^Hello! This is the voxgate local agent\./);
    assert.ok(greeting.some((p) => p.type === 'audio'));
    assert.ok(greeting.every((p) => p.type !== 'audio' || p.sampleRate === OUT_RATE));
    assert.ok(audioMs(greeting) > 3000, `greeting audio ${audioMs(greeting)} ms`);
    // Text and audio interleave sentence by sentence: the first audio comes before the last text.
    const firstAudio = greeting.findIndex((p) => p.type === 'audio');
    const lastText = greeting.findLastIndex((p) => p.type === 'text');
    assert.ok(firstAudio < lastText);
    assert.match(textOf(await collect(session.respond(turn()))), /still here/);
    await session.close();
  });

  it('hears a spoken question, calls get_weather, then speaks the result', {
    skip: recognizer.available ? false : recognizer.reason,
  }, async () => {
    const session = brain.openSession({ sessionId: 'sess_weather' });
    const audio = { pcm: question24k, sampleRate: 24000 };
    const first = await collect(session.respond(turn({ user: { itemId: 'item_1', audio } })));
    assert.equal(session.mode, 'recognize');
    const transcript = first.find((p) => p.type === 'user_transcript');
    assert.ok(transcript?.type === 'user_transcript');
    assert.match(transcript.text, /weather/);
    assert.match(transcript.text, /paris/);
    const call = first.find((p) => p.type === 'tool_call');
    assert.deepEqual(call, { type: 'tool_call', name: 'get_weather', arguments: { city: 'Paris' } });
    assert.equal(first.filter((p) => p.type === 'audio').length, 0, 'a tool call ends the answer');

    const history: BrainHistoryEntry[] = [
      { kind: 'message', id: 'item_1', role: 'user', text: transcript.text, audioMs: 1800 },
      {
        kind: 'tool_call',
        id: 'item_2',
        callId: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
      {
        kind: 'tool_result',
        id: 'item_3',
        callId: 'call_1',
        output: '{"conditions":"sunny","temperature_c":18}',
      },
    ];
    const toolResults = [
      { callId: 'call_1', name: 'get_weather', output: '{"conditions":"sunny","temperature_c":18}' },
    ];
    const second = await collect(session.respond(turn({ toolResults, history })));
    assert.equal(textOf(second), 'The weather in Paris: conditions sunny, temperature c 18.');
    assert.ok(audioMs(second) > 1500);
    assert.ok(second.every((p) => p.type !== 'audio' || p.sampleRate === OUT_RATE));

    const pgid = session.recognizerProcessGroup;
    assert.ok(pgid !== undefined);
    await session.close();
    assert.equal(groupAlive(pgid), false, 'the recogniser must not outlive the call');
  });

  it('echoes 8 kHz callers: announces, then plays their audio back', async () => {
    const session = brain.openSession({ sessionId: 'sess_echo' });
    const audio = { pcm: question8k, sampleRate: 8000 };
    const parts = await collect(session.respond(turn({ user: { itemId: 'item_1', audio } })));
    assert.equal(session.mode, 'echo');
    assert.equal(textOf(parts), 'You said:');
    assert.ok(!parts.some((p) => p.type === 'user_transcript'));
    const last = parts[parts.length - 1];
    assert.ok(last?.type === 'audio');
    assert.equal(last.pcm, question8k);
    assert.equal(last.sampleRate, 8000);
    assert.equal(session.recognizerProcessGroup, undefined, 'no recogniser for a caller it cannot hear');
    await session.close();
  });

  it('echoes every caller when recognition is off', async () => {
    const echoBrain = localBrain({ tts, recognition: 'off' });
    assert.equal(echoBrain.recognizer.available, false);
    const session = echoBrain.openSession({ sessionId: 'sess_off' });
    const parts = await collect(
      session.respond(turn({ user: { itemId: 'i', audio: { pcm: question24k, sampleRate: 24000 } } })),
    );
    assert.equal(session.mode, 'echo');
    const last = parts.at(-1);
    assert.ok(last?.type === 'audio' && last.pcm === question24k);
    await echoBrain.close();
    assert.ok(tts.workers > 0, 'a shared Tts is not closed by the brain');
  });

  it('answers typed text, says goodbye and hangs up', async () => {
    const session = brain.openSession({ sessionId: 'sess_bye' });
    const time = await collect(session.respond(turn({ user: { itemId: 'i1', text: 'What time is it?' } })));
    assert.equal(textOf(time), 'It is 3:07 PM.');
    assert.ok(!time.some((p) => p.type === 'user_transcript'), 'typed text needs no transcript');
    const bye = await collect(session.respond(turn({ user: { itemId: 'i2', text: 'goodbye' } })));
    assert.equal(textOf(bye), 'Goodbye! Thanks for calling.');
    assert.deepEqual(bye.at(-1), { type: 'hangup', reason: 'goodbye' });
    await session.close();
  });

  it('sends text only when the client wants no audio', async () => {
    const session = brain.openSession({ sessionId: 'sess_text' });
    const parts = await collect(
      session.respond(
        turn({
          user: { itemId: 'i', text: 'weather in Rome' },
          tools: [],
          output: { audio: false, sampleRate: OUT_RATE },
        }),
      ),
    );
    assert.deepEqual(parts, [
      { type: 'text', text: 'I cannot look up the weather in Rome: no weather tool is connected.' },
    ]);
    await session.close();
  });

  it('stops speaking at once on barge-in', async () => {
    const session = brain.openSession({ sessionId: 'sess_barge' });
    const controller = new AbortController();
    const parts: BrainPart[] = [];
    let afterAbort = 0;
    let abortedAt = 0;
    for await (const part of session.respond(turn({ signal: controller.signal }))) {
      if (controller.signal.aborted) afterAbort++;
      parts.push(part);
      if (part.type === 'audio' && !controller.signal.aborted) {
        controller.abort();
        abortedAt = performance.now();
      }
    }
    const stopMs = performance.now() - abortedAt;
    assert.equal(afterAbort, 0, 'no part after the abort');
    assert.equal(parts.filter((p) => p.type === 'audio').length, 1);
    assert.ok(stopMs < 1000, `the answer took ${stopMs} ms to stop`);
    await session.close();
  });
});
