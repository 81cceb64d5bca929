/**
 * Frame converters: what a graph Link runs when its two ends disagree on format. Chosen once per link:
 * passthrough (null) when the formats match, a 256-entry table between μ-law and A-law at one rate, else
 * decode → resample → encode with the resampler's filter state kept across frames.
 */
import type { AudioEncoding, AudioFormat } from './format.js';
import { alawDecode, alawEncode, g711TranscodeTable, ulawDecode, ulawEncode } from './g711.js';
import { allocPcm16, pcm16Bytes, pcm16View } from './pcm.js';
import { Resampler } from './resampler.js';

export interface Converter {
  /** Converts one frame. Returns a fresh buffer (a Node Buffer) the caller may keep; it may be empty. */
  convert(frame: Uint8Array): Uint8Array;
  /** Frees the resampler's wasm memory, if any. Idempotent; convert() after destroy() may throw. */
  destroy(): void;
  /** What the converter does, for tests and metrics, e.g. ['ulaw-decode', 'resample 8000->24000', 'pcm16-encode']. */
  readonly steps: readonly string[];
}

export interface ConverterOptions {
  /** Resampler quality 0..10; default DEFAULT_RESAMPLER_QUALITY (see resampler.ts for why). */
  quality?: number;
}

type LinearOrG711 = Exclude<AudioEncoding, 'opus'>;

/**
 * The converter from `from` to `to`, or null when no conversion is needed (same encoding and rate). Throws a
 * RangeError for opus, and an Error if the rates differ and initMedia() has not completed.
 */
export function createConverter(
  from: AudioFormat,
  to: AudioFormat,
  options: ConverterOptions = {},
): Converter | null {
  if (from === to || (from.encoding === to.encoding && from.sampleRate === to.sampleRate)) return null;
  if (from.encoding === 'opus' || to.encoding === 'opus') {
    throw new RangeError('opus is not supported by the media converters; use pcm16, ulaw or alaw');
  }
  if (from.sampleRate === to.sampleRate && from.encoding !== 'pcm16' && to.encoding !== 'pcm16') {
    return new TranscodeConverter(from.encoding);
  }
  return new PipelineConverter(from.encoding, from.sampleRate, to.encoding, to.sampleRate, options.quality);
}

/** μ-law ⇄ A-law at one rate: one table lookup a byte, the same result as decode-then-encode. */
class TranscodeConverter implements Converter {
  readonly steps: readonly string[];
  readonly #table: Uint8Array;

  constructor(from: 'ulaw' | 'alaw') {
    this.#table = g711TranscodeTable(from);
    this.steps = Object.freeze([from === 'ulaw' ? 'ulaw-to-alaw' : 'alaw-to-ulaw']);
  }

  convert(frame: Uint8Array): Uint8Array {
    const n = frame.length;
    const out = Buffer.allocUnsafe(n);
    const table = this.#table;
    for (let i = 0; i < n; i++) out[i] = table[frame[i]!]!;
    return out;
  }

  destroy(): void {}
}

class PipelineConverter implements Converter {
  readonly steps: readonly string[];
  readonly #from: LinearOrG711;
  readonly #to: LinearOrG711;
  #resampler: Resampler | null;
  /**
   * Decoded G.711 goes here when it does not leave the converter (it is resampled or re-encoded next), so
   * steady-state frames decode without allocating. #view is the last exact-length view over it.
   */
  #scratch = new Int16Array(0);
  #view = new Int16Array(0);

  constructor(from: LinearOrG711, inRate: number, to: LinearOrG711, outRate: number, quality?: number) {
    this.#from = from;
    this.#to = to;
    this.#resampler = inRate === outRate ? null : new Resampler(inRate, outRate, quality);
    const steps = [`${from}-decode`];
    if (this.#resampler !== null) steps.push(`resample ${inRate}->${outRate}`);
    steps.push(`${to}-encode`);
    this.steps = Object.freeze(steps);
  }

  convert(frame: Uint8Array): Uint8Array {
    let pcm = this.#decode(frame);
    if (this.#resampler !== null) pcm = this.#resampler.process(pcm);
    // For PCM16 output, pcm is a fresh array here (resampler output or a fresh decode), so a zero-copy Buffer.
    switch (this.#to) {
      case 'pcm16':
        return pcm16Bytes(pcm);
      case 'ulaw':
        return ulawEncode(pcm, Buffer.allocUnsafe(pcm.length));
      case 'alaw':
        return alawEncode(pcm, Buffer.allocUnsafe(pcm.length));
    }
  }

  destroy(): void {
    this.#resampler?.destroy();
    this.#resampler = null;
  }

  #decode(frame: Uint8Array): Int16Array {
    // A view of the caller's frame is safe: it is only read, by the resampler (which copies it into wasm) or
    // by a G.711 encoder. PCM16 → PCM16 at one rate never gets here (that is passthrough).
    if (this.#from === 'pcm16') return pcm16View(frame);
    // G.711 → PCM16 at the same rate hands the samples out: they must be a fresh array.
    const keep = this.#resampler === null && this.#to === 'pcm16';
    const out = keep ? allocPcm16(frame.length) : this.#scratchOf(frame.length);
    return this.#from === 'ulaw' ? ulawDecode(frame, out) : alawDecode(frame, out);
  }

  #scratchOf(n: number): Int16Array {
    if (this.#view.length === n) return this.#view;
    if (this.#scratch.length < n) this.#scratch = new Int16Array(Math.max(n, 960));
    this.#view = this.#scratch.subarray(0, n);
    return this.#view;
  }
}
