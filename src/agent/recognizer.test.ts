import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { canRecognize, detectRecognizer, groupAlive, Recognizer } from './recognizer.js';
import { Tts } from './tts.js';

const status = detectRecognizer();
const skip = status.available ? false : status.reason;

describe('detectRecognizer', () => {
  it('says whether pocketsphinx is usable, and why', () => {
    assert.equal(typeof status.available, 'boolean');
    assert.ok(status.reason.length > 0);
    if (!status.available) assert.match(status.reason, /apt-get install pocketsphinx pocketsphinx-en-us/);
    assert.equal(detectRecognizer(), status);
  });

  it('refuses telephone-band rates', () => {
    assert.equal(canRecognize(8000), false);
    assert.equal(canRecognize(16000), true);
    assert.equal(canRecognize(48000), true);
  });
});

describe('Recognizer', { skip }, () => {
  const tts = new Tts();
  const recognizer = new Recognizer();
  after(async () => {
    await recognizer.close();
    await tts.close();
  });

  it('recognises synthesised speech at 16 kHz', async () => {
    const pcm = await tts.synthesize('What is the weather in Paris?');
    const text = await recognizer.recognize(pcm, 16000);
    assert.ok(text !== null);
    assert.match(text, /\bweather\b/);
    assert.match(text, /\bparis\b/);
  });

  it('resamples 24 kHz turns, reuses one process, and returns empty text for silence', async () => {
    const pcm = await tts.synthesize('Hello, what time is it?', { sampleRate: 24000 });
    const text = await recognizer.recognize(pcm, 24000);
    assert.match(text ?? '', /\btime\b/);
    assert.equal(await recognizer.recognize(new Int16Array(16000), 16000), '');
    assert.equal(recognizer.processesStarted, 1);
  });

  it('refuses 8 kHz audio and resolves null when aborted', async () => {
    await assert.rejects(recognizer.recognize(new Int16Array(8000), 8000), RangeError);
    assert.equal(await recognizer.recognize(new Int16Array(16000), 16000, AbortSignal.abort()), null);
  });

  it('opts in to upsampled 8 kHz audio', async () => {
    const narrow = new Recognizer({ minSampleRate: 8000 });
    try {
      const pcm = await tts.synthesize('What is the weather in Paris?', { sampleRate: 8000 });
      // Telephone band: words come back, not all of them right ('what is delivered in paris').
      assert.match((await narrow.recognize(pcm, 8000)) ?? '', /\bparis\b/);
    } finally {
      await narrow.close();
    }
  });

  it('leaves no process behind after close', async () => {
    const own = new Recognizer();
    assert.equal(own.processGroup, undefined, 'started lazily');
    const pending = own.recognize(new Int16Array(16000), 16000);
    const pgid = own.processGroup;
    assert.ok(pgid !== undefined && groupAlive(pgid));
    await own.close();
    assert.equal(await pending, null);
    assert.equal(groupAlive(pgid), false, `process group ${pgid} survived close()`);
    await assert.rejects(own.recognize(new Int16Array(16000), 16000), { code: 'VG_ERR_INVALID_STATE' });
  });
});
