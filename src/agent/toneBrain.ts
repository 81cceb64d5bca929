/**
 * The default brain until the real local agent exists: it answers every turn with a short tone (or a clip you
 * give it, e.g. a WAV from assets/) and a transcript, and calls `get_weather` when a text message asks for the
 * weather and the session offers that tool. It recognises no speech: an audio turn is "heard" as its duration.
 */

import { sine } from '../media/pcm.js';
import {
  audioMs,
  type Brain,
  type BrainAudio,
  type BrainPart,
  type BrainSession,
  type BrainTurn,
} from './brain.js';

export interface ToneBrainOptions {
  /** Tone frequency, Hz. Default 440. */
  readonly freqHz?: number;
  /** Tone length, ms. Default 800. */
  readonly toneMs?: number;
  /** Peak amplitude, 0..1 of full scale. Default 0.3. */
  readonly amplitude?: number;
  /** Play this clip instead of a tone (any supported rate; the emulator resamples). */
  readonly clip?: BrainAudio;
}

const WEATHER = /\bweather\s+(?:in|for|at)\s+([\p{L}][\p{L} .'-]*)/iu;
const TRAILING =
  /\s+(?:today|tonight|tomorrow|now|right now|please|this (?:morning|afternoon|evening|week))$/i;
const FADE_MS = 10;

export function toneBrain(options: ToneBrainOptions = {}): Brain {
  const freqHz = options.freqHz ?? 440;
  const toneMs = options.toneMs ?? 800;
  const amplitude = options.amplitude ?? 0.3;
  const toneFor = (rate: number): BrainAudio =>
    options.clip ?? { pcm: fadedTone(freqHz, rate, toneMs, amplitude), sampleRate: rate };
  return {
    name: 'tone',
    openSession: (): BrainSession => ({
      respond: (turn) => answer(turn, toneFor),
      close() {},
    }),
  };
}

async function* answer(turn: BrainTurn, toneFor: (rate: number) => BrainAudio): AsyncGenerator<BrainPart> {
  const user = turn.user;
  if (user?.audio !== undefined && user.text === undefined) {
    yield { type: 'user_transcript', text: `[${(audioMs(user.audio) / 1000).toFixed(1)} s of audio]` };
  }
  const toolCall = user?.text === undefined ? undefined : weatherCall(user.text, turn);
  if (toolCall !== undefined) {
    yield toolCall;
    return;
  }
  yield* words(replyText(turn));
  if (turn.output.audio && !turn.signal.aborted) {
    const audio = toneFor(turn.output.sampleRate);
    yield { type: 'audio', pcm: audio.pcm, sampleRate: audio.sampleRate };
  }
}

function replyText(turn: BrainTurn): string {
  const result = turn.toolResults[turn.toolResults.length - 1];
  if (result !== undefined) return `${result.name ?? 'The tool'} says: ${clip(result.output, 200)}`;
  const text = turn.user?.text;
  if (text !== undefined) return `You said: ${clip(text, 200)}`;
  if (turn.user?.audio !== undefined) return 'I heard you.';
  return 'Hello from the voxgate emulator.';
}

function weatherCall(text: string, turn: BrainTurn): BrainPart | undefined {
  if (!turn.tools.some((t) => t.name === 'get_weather')) return undefined;
  const city = WEATHER.exec(text)?.[1]
    ?.trim()
    .replace(/[ .'-]+$/, '')
    .replace(TRAILING, '');
  if (city === undefined || city === '') return undefined;
  return { type: 'tool_call', name: 'get_weather', arguments: { city } };
}

function* words(text: string): Generator<BrainPart> {
  for (const w of text.split(/(?<=\s)/)) yield { type: 'text', text: w };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A sine with short linear fades, so the reply starts and stops without clicks. */
function fadedTone(freqHz: number, rate: number, ms: number, amplitude: number): Int16Array {
  const pcm = sine(freqHz, rate, ms, amplitude);
  const fade = Math.min(Math.floor((rate * FADE_MS) / 1000), pcm.length >> 1);
  for (let i = 0; i < fade; i++) {
    const g = i / fade;
    pcm[i] = Math.round(pcm[i]! * g);
    pcm[pcm.length - 1 - i] = Math.round(pcm[pcm.length - 1 - i]! * g);
  }
  return pcm;
}
