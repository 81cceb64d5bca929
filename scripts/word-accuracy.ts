/**
 * Word accuracy of the local agent's own loop: the repo's sentences (what callers say to the agent, what the agent
 * says from dialogue.json, the assets/ prompt) are synthesised with our TTS and run through our recogniser.
 * Prints per-sentence results and word accuracy = 1 − WER (word-level Levenshtein), plus TTS speed, first-audio
 * latency, recognition speed and VAD segment accuracy on the same audio.
 *
 *   node --import tsx scripts/word-accuracy.ts [--voice rms] [--via 8000] [--ulaw]
 *
 * `--via RATE` sends the audio through RATE and back to 16 kHz first (8000 shows the telephone band's effect);
 * `--ulaw` also passes it through G.711 mu-law at that rate.
 * Needs Debian's pocketsphinx + pocketsphinx-en-us for the recognition part; without them it says so and exits 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultDialogueRules } from '../src/agent/dialogue.js';
import { detectRecognizer, Recognizer } from '../src/agent/recognizer.js';
import { type FliteVoice, Tts } from '../src/agent/tts.js';
import { findSpeechSegments, initVad } from '../src/agent/vad.js';
import { setLogLevel } from '../src/log.js';
import { ulawDecode, ulawEncode } from '../src/media/g711.js';
import { rmsDbfs } from '../src/media/level.js';
import { initResampler, Resampler } from '../src/media/resampler.js';

const RATE = 16000;

/** What callers say to the agent (the dialogue's triggers, as the tests use them). */
const CALLER_SENTENCES = [
  'What is the weather in Paris?',
  'Hello, what time is it?',
  'What is the date today?',
  "What's the weather like in New York today?",
  'Repeat after me the cat sat on the mat.',
  'What did I just say?',
  'Goodbye.',
];

function repoSentences(): string[] {
  const rules = defaultDialogueRules();
  const agent = [
    rules.greeting,
    rules.reprompt,
    rules.noSpeech,
    ...rules.rules.map((r) => r.say ?? ''),
  ].filter((s) => s !== '' && !s.includes('{'));
  const assets = [
    ...readFileSync(new URL('./make-assets.sh', import.meta.url), 'utf8').matchAll(/-t "([^"]+)"/g),
  ].map((m) => m[1]!);
  return [...CALLER_SENTENCES, ...agent, ...assets];
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9'\s]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '');
}

/** Word-level edit distance (substitutions + insertions + deletions). */
export function wordErrors(reference: readonly string[], hypothesis: readonly string[]): number {
  let prev = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const row = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const cost = reference[i - 1] === hypothesis[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[hypothesis.length]!;
}

function roundTrip(pcm: Int16Array, via: number, ulaw: boolean): Int16Array {
  if (via === RATE && !ulaw) return pcm;
  const down = new Resampler(RATE, via);
  const up = new Resampler(via, RATE);
  const narrow = down.process(pcm);
  const out = up.process(ulaw ? ulawDecode(ulawEncode(narrow)) : narrow);
  down.destroy();
  up.destroy();
  return out;
}

async function synthesizeAll(tts: Tts, sentences: readonly string[]): Promise<Int16Array[]> {
  const started = performance.now();
  const first = tts.stream('Hello there. This sentence comes second.');
  await first.next();
  const firstAudioMs = performance.now() - started;
  await first.return(undefined);
  const before = { ...tts.stats };
  const t0 = performance.now();
  const audio: Int16Array[] = [];
  for (const s of sentences) audio.push(await tts.synthesize(s));
  const wall = performance.now() - t0;
  const made = tts.stats.audioMs - before.audioMs;
  console.log(
    `TTS: first audio ${firstAudioMs.toFixed(0)} ms from a cold start (worker start + first sentence)`,
  );
  console.log(
    `TTS: ${(made / 1000).toFixed(1)} s of audio in ${wall.toFixed(0)} ms wall, ` +
      `${(tts.stats.busyMs - before.busyMs).toFixed(0)} ms in the worker: ${(made / wall).toFixed(0)}x real time`,
  );
  return audio;
}

async function recognizeAll(
  sentences: readonly string[],
  audio: readonly Int16Array[],
  via: number,
  ulaw: boolean,
): Promise<void> {
  const recognizer = new Recognizer();
  let errors = 0;
  let total = 0;
  let decodeMs = 0;
  let audioMs = 0;
  try {
    await recognizer.recognize(new Int16Array(RATE / 2), RATE); // loads the model, not timed
    for (let i = 0; i < sentences.length; i++) {
      const pcm = roundTrip(audio[i]!, via, ulaw);
      const t0 = performance.now();
      const heard = (await recognizer.recognize(pcm, RATE)) ?? '';
      decodeMs += performance.now() - t0;
      audioMs += (pcm.length * 1000) / RATE;
      const ref = words(sentences[i]!);
      const e = wordErrors(ref, words(heard));
      errors += e;
      total += ref.length;
      console.log(`${e === 0 ? 'ok  ' : `${e} err`}  ${sentences[i]}\n       → ${heard}`);
    }
  } finally {
    await recognizer.close();
  }
  console.log(
    `ASR: ${(decodeMs / audioMs).toFixed(2)}x real time per turn (${decodeMs.toFixed(0)} ms for ${(audioMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `Word accuracy (1 - WER): ${(100 * (1 - errors / total)).toFixed(1)} % (${errors} errors in ${total} words${via === RATE && !ulaw ? '' : `, via ${via} Hz${ulaw ? ' mu-law' : ''}`})`,
  );
}

/** Places the utterances 1.5 s apart and compares VAD segments with the frames above -45 dBFS. */
function vadAccuracy(audio: readonly Int16Array[]): void {
  const gap = (RATE * 1500) / 1000;
  const total = audio.reduce((n, a) => n + a.length + gap, gap);
  const track = new Int16Array(total);
  const truth: { startMs: number; endMs: number }[] = [];
  let at = gap;
  for (const a of audio) {
    track.set(a, at);
    let first = -1;
    let last = -1;
    for (let i = 0; i + 320 <= a.length; i += 320) {
      if (rmsDbfs(a.subarray(i, i + 320)) > -45) {
        if (first < 0) first = i;
        last = i + 320;
      }
    }
    truth.push({ startMs: ((at + first) * 1000) / RATE, endMs: ((at + last) * 1000) / RATE });
    at += a.length + gap;
  }
  const found = findSpeechSegments(track, RATE);
  const errs =
    found.length === truth.length
      ? found.flatMap((s, i) => [s.startMs - truth[i]!.startMs, s.endMs - truth[i]!.endMs])
      : [];
  const mean = errs.reduce((n, e) => n + Math.abs(e), 0) / Math.max(1, errs.length);
  const max = errs.reduce((n, e) => Math.max(n, Math.abs(e)), 0);
  console.log(
    `VAD: ${found.length} segments for ${truth.length} utterances; boundary error mean ${mean.toFixed(0)} ms, max ${max.toFixed(0)} ms`,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      voice: { type: 'string', default: 'rms' },
      via: { type: 'string', default: '16000' },
      ulaw: { type: 'boolean', default: false },
    },
  });
  const via = Number(values.via);
  if (process.env.VOXGATE_LOG_LEVEL === undefined) setLogLevel('warn');
  const sentences = repoSentences();
  await Promise.all([initResampler(), initVad()]);
  const tts = new Tts({ voice: values.voice as FliteVoice });
  try {
    const audio = await synthesizeAll(tts, sentences);
    vadAccuracy(audio);
    const status = detectRecognizer();
    if (!status.available) {
      console.log(`ASR: skipped: ${status.reason}`);
      return 2;
    }
    await recognizeAll(sentences, audio, via, values.ulaw === true);
    return 0;
  } finally {
    await tts.close();
  }
}

process.exitCode = await main();
