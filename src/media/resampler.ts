/**
 * Streaming sample-rate conversion with the SpeexDSP resampler compiled to wasm
 * (`@echogarden/speex-resampler-wasm`, spec/dependencies.md §4). One {@link Resampler} per stream keeps the
 * filter state across 20 ms chunks, so chunk seams are inaudible and chunked output equals whole-buffer output.
 *
 * The wasm module is loaded once per process by {@link initResampler} (async), never at import time.
 */
import type { SpeexModule } from '@echogarden/speex-resampler-wasm/simd';
import { allocPcm16 } from './pcm.js';

/**
 * Default quality 5. The contract (tests) asks for ≤ 0.5 dB passband deviation up to 85 % of the lower Nyquist
 * (3.4 kHz at 8 kHz, 6.8 kHz at 16 kHz) and ≥ 80 dB rejection of a tone above the target Nyquist. Measured over
 * every pair of SAMPLE_RATES: quality 3 (speex's "VoIP" setting) loses up to 1.06 dB at the passband edge, so it
 * fails; quality 4 passes with a thin margin (84 dB worst rejection at 1.1–1.25× Nyquist); quality 5 keeps the
 * passband within 0.01 dB and rejects ≥ 90 dB (often to all-zero output), with images ≤ -99 dB when upsampling.
 * It costs roughly 0–40 % more CPU than q3 depending on the pair, still thousands of streams per core
 * (BENCHMARKS.md), so the margin is worth it.
 */
export const DEFAULT_RESAMPLER_QUALITY = 5;

let speex: SpeexModule | null = null;
let loading: Promise<void> | null = null;

async function loadSpeex(): Promise<SpeexModule> {
  try {
    const simd = await import('@echogarden/speex-resampler-wasm/simd');
    return await simd.default();
  } catch {
    // A runtime without wasm SIMD: the plain build exports the same functions, about 20 % slower.
    const plain = await import('@echogarden/speex-resampler-wasm');
    return await plain.default();
  }
}

/** Loads the wasm resampler. Idempotent; concurrent calls share one promise; a failed load may be retried. */
export function initResampler(): Promise<void> {
  if (loading === null) {
    loading = loadSpeex().then(
      (mod) => {
        speex = mod;
      },
      (err: unknown) => {
        loading = null;
        throw err;
      },
    );
  }
  return loading;
}

export function resamplerReady(): boolean {
  return speex !== null;
}

/** The wasm allocations of one resampler; mutable because the buffers grow. */
interface Allocation {
  state: number;
  inPtr: number;
  outPtr: number;
  /** Two uint32s: [in_len, out_len]. */
  lenPtr: number;
}

function freeAllocation(mod: SpeexModule, a: Allocation): void {
  if (a.state !== 0) mod._speex_resampler_destroy(a.state);
  if (a.inPtr !== 0) mod._free(a.inPtr);
  if (a.outPtr !== 0) mod._free(a.outPtr);
  if (a.lenPtr !== 0) mod._free(a.lenPtr);
  a.state = a.inPtr = a.outPtr = a.lenPtr = 0;
}

/** Frees the wasm memory of a resampler that was dropped without destroy(): a leak guard, not the plan. */
const finalizer = new FinalizationRegistry<Allocation>((a) => {
  if (speex !== null) freeAllocation(speex, a);
});

const MAX_RATE = 384000;

/** One mono int16 stream from `inRate` to `outRate`, with filter state: one instance per stream, never shared. */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly quality: number;
  readonly #mod: SpeexModule;
  readonly #alloc: Allocation;
  #inCap = 0;
  #outCap = 0;
  #destroyed = false;

  constructor(inRate: number, outRate: number, quality: number = DEFAULT_RESAMPLER_QUALITY) {
    if (speex === null) throw new Error('the resampler is not loaded: call initMedia() first');
    for (const rate of [inRate, outRate]) {
      if (!Number.isInteger(rate) || rate <= 0 || rate > MAX_RATE) {
        throw new RangeError(`sample rate must be an integer in 1..${MAX_RATE}, got ${rate}`);
      }
    }
    if (!Number.isInteger(quality) || quality < 0 || quality > 10) {
      throw new RangeError(`resampler quality must be an integer 0..10, got ${quality}`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.quality = quality;
    this.#mod = speex;
    this.#alloc = { state: 0, inPtr: 0, outPtr: 0, lenPtr: speex._malloc(8) };
    const errPtr = this.#alloc.lenPtr;
    this.#alloc.state = speex._speex_resampler_init(1, inRate, outRate, quality, errPtr);
    const err = speex.HEAP32[errPtr >> 2]!;
    if (this.#alloc.state === 0 || err !== 0) {
      freeAllocation(speex, this.#alloc);
      throw new Error(`speex_resampler_init failed with error ${err}`);
    }
    try {
      // Room for 20 ms at 48 kHz up front; grows if a caller sends bigger chunks.
      this.#reserve(960);
    } catch (err) {
      freeAllocation(speex, this.#alloc);
      throw err;
    }
    finalizer.register(this, this.#alloc, this);
  }

  /**
   * Samples of delay the filter adds, at the output rate: output sample `k + outputLatency` corresponds to
   * output-rate time `k` of the input (3.5–5 ms at quality 5). Use it to line output up with input.
   */
  get outputLatency(): number {
    this.#check();
    return this.#mod._speex_resampler_get_output_latency(this.#alloc.state);
  }

  /**
   * Resamples the next chunk of the stream. Returns a new array the caller may keep. Its length follows the rate
   * ratio with the fraction carried to later calls (8k→24k: 160 in, 480 out; 48k→11025: 960 in, 220 or 221 out).
   */
  process(input: Int16Array): Int16Array {
    this.#check();
    const n = input.length;
    if (n === 0) return allocPcm16(0);
    if (n > this.#inCap) this.#reserve(n);
    const mod = this.#mod;
    const { state, inPtr, outPtr, lenPtr } = this.#alloc;
    // Read the heap views after #reserve: a _malloc may have grown (and so replaced) them.
    mod.HEAP16.set(input, inPtr >> 1);
    const lens = mod.HEAPU32;
    const lenIdx = lenPtr >> 2;
    lens[lenIdx] = n;
    lens[lenIdx + 1] = this.#outCap;
    const err = mod._speex_resampler_process_int(state, 0, inPtr, lenPtr, outPtr, lenPtr + 4);
    if (err !== 0) throw new Error(`speex_resampler_process_int failed with error ${err}`);
    const used = lens[lenIdx]!;
    const made = lens[lenIdx + 1]!;
    const first = allocPcm16(made);
    first.set(mod.HEAP16.subarray(outPtr >> 1, (outPtr >> 1) + made));
    // The output buffer is sized for the whole input, so one call normally consumes it all.
    return used === n ? first : this.#finish(input, used, first);
  }

  /** Frees the wasm memory. Idempotent; process() after destroy() throws. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    finalizer.unregister(this);
    freeAllocation(this.#mod, this.#alloc);
  }

  /** The rare path: speex stopped early, so feed the rest and join the pieces. */
  #finish(input: Int16Array, used: number, first: Int16Array): Int16Array {
    const pieces = [first];
    let total = first.length;
    let offset = used;
    const mod = this.#mod;
    const { state, inPtr, outPtr, lenPtr } = this.#alloc;
    const lenIdx = lenPtr >> 2;
    while (offset < input.length) {
      const lens = mod.HEAPU32;
      lens[lenIdx] = input.length - offset;
      lens[lenIdx + 1] = this.#outCap;
      const err = mod._speex_resampler_process_int(state, 0, inPtr + offset * 2, lenPtr, outPtr, lenPtr + 4);
      if (err !== 0) throw new Error(`speex_resampler_process_int failed with error ${err}`);
      const step = lens[lenIdx]!;
      const made = lens[lenIdx + 1]!;
      if (step === 0 && made === 0) throw new Error('speex resampler made no progress');
      pieces.push(mod.HEAP16.slice(outPtr >> 1, (outPtr >> 1) + made));
      total += made;
      offset += step;
    }
    const out = new Int16Array(total);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Grows the wasm input/output buffers to hold `samples` input samples and their output. */
  #reserve(samples: number): void {
    const mod = this.#mod;
    const a = this.#alloc;
    const outCap = Math.ceil((samples * this.outRate) / this.inRate) + 16;
    if (a.inPtr !== 0) mod._free(a.inPtr);
    if (a.outPtr !== 0) mod._free(a.outPtr);
    a.inPtr = 0;
    a.outPtr = 0;
    a.inPtr = mod._malloc(samples * 2);
    a.outPtr = mod._malloc(outCap * 2);
    if (a.inPtr === 0 || a.outPtr === 0) throw new Error('wasm heap exhausted');
    this.#inCap = samples;
    this.#outCap = outCap;
  }

  #check(): void {
    if (this.#destroyed) throw new Error('resampler used after destroy()');
  }
}
