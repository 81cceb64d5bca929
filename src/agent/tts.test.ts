import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmsDbfs } from '../media/level.js';
import { splitSentences, Tts } from './tts.js';

const SENTENCE = 'What is the weather in Paris?';
const FOUR = 'Hello there. This is the local agent speaking. Ask me about the weather. Goodbye for now!';

describe('Tts', () => {
  const tts = new Tts();
  before(() => tts.warmUp());
  after(() => tts.close());

  it('speaks a sentence at 16 kHz with a plausible duration and level', async () => {
    const chunks = [];
    for await (const chunk of tts.stream(SENTENCE)) chunks.push(chunk);
    assert.equal(chunks.length, 1);
    const { pcm, sampleRate, text, last } = chunks[0]!;
    assert.equal(sampleRate, 16000);
    assert.equal(text, SENTENCE);
    assert.equal(last, true);
    const seconds = pcm.length / sampleRate;
    assert.ok(seconds > 1 && seconds < 4, `duration ${seconds} s`);
    assert.ok(rmsDbfs(pcm) > -35, `level ${rmsDbfs(pcm)} dBFS`);
  });

  it('resamples to 24 kHz and 8 kHz with the same duration', async () => {
    const base = (await tts.synthesize(SENTENCE)).length / 16000;
    for (const rate of [24000, 8000]) {
      const chunks = [];
      for await (const chunk of tts.stream(SENTENCE, { sampleRate: rate })) chunks.push(chunk);
      assert.ok(chunks.every((c) => c.sampleRate === rate));
      const seconds = chunks.reduce((n, c) => n + c.pcm.length, 0) / rate;
      assert.ok(Math.abs(seconds - base) < 0.02, `${rate} Hz: ${seconds} s vs ${base} s at 16 kHz`);
      assert.ok(rmsDbfs(chunks[0]!.pcm) > -35);
    }
  });

  it('streams the first sentence before the rest is synthesised', async () => {
    const before = tts.stats.sentences;
    const seen: { index: number; made: number; last: boolean }[] = [];
    for await (const chunk of tts.stream(FOUR, { sampleRate: 24000 })) {
      seen.push({ index: chunk.index, made: tts.stats.sentences - before, last: chunk.last });
    }
    assert.deepEqual(
      seen.map((s) => s.index),
      [0, 1, 2, 3],
    );
    // One sentence of look-ahead: when sentence 0 is handed out, at most sentence 1 is also done.
    assert.ok(seen[0]!.made <= 2, `sentences made before the first chunk: ${seen[0]!.made}`);
    assert.equal(seen[0]!.last, false);
    assert.equal(seen[3]!.last, true);
  });

  it('stops when the signal aborts, and yields nothing when already aborted', async () => {
    const controller = new AbortController();
    let chunks = 0;
    for await (const _chunk of tts.stream(FOUR, { signal: controller.signal })) {
      chunks++;
      controller.abort();
    }
    assert.equal(chunks, 1);
    let late = 0;
    for await (const _chunk of tts.stream(FOUR, { signal: AbortSignal.abort() })) late++;
    assert.equal(late, 0);
    // The pool is still healthy after a cancelled stream.
    assert.ok((await tts.synthesize('Still here.')).length > 0);
  });

  it('leaves no worker running after close, and refuses work afterwards', async () => {
    const own = new Tts();
    await own.synthesize('One.');
    assert.equal(own.workers, 1);
    await own.close();
    assert.equal(own.workers, 0);
    await assert.rejects(own.synthesize('Two.'), { code: 'VG_ERR_INVALID_STATE' });
    await own.close();
  });
});

describe('splitSentences', () => {
  it('cuts at sentence ends and keeps the punctuation', () => {
    assert.deepEqual(splitSentences('Hello there.  How are you?Fine! ok'), [
      'Hello there.',
      'How are you?Fine!',
      'ok',
    ]);
    assert.deepEqual(splitSentences('It is 3.5 degrees. Bye.'), ['It is 3.5 degrees.', 'Bye.']);
    assert.deepEqual(splitSentences(' ... '), []);
  });

  it('cuts long sentences at commas, then spaces', () => {
    const long = `${'word '.repeat(30).trim()}, ${'more '.repeat(10).trim()}`;
    const parts = splitSentences(long, 100);
    assert.ok(parts.length >= 2);
    assert.ok(parts.every((p) => p.length <= 100));
    assert.equal(parts.join(' ').replace(/\s+/g, ' '), long);
  });
});
