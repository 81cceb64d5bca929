/**
 * Turn detection on caller audio: the WebRTC VAD (libfvad via `@echogarden/fvad-wasm`) ANDed with an energy gate.
 * fvad alone calls stationary noise speech (spec/dependencies.md §5: brown noise reads as one 14 s utterance), so
 * a frame is voiced only when fvad says so AND its level is above an absolute floor AND above the tracked noise
 * floor (the minimum frame level over the last couple of seconds) by a margin. Speech starts after `startMs` of
 * consecutive voiced frames and stops after `endMs` of consecutive unvoiced ones; both events carry times on the
 * input timeline (ms of audio pushed since the start).
 *
 * Synchronous and allocation-free per frame: call {@link initVad} once (async: loads the wasm and the resampler),
 * then `new TurnDetector()` and `push()` frames of any size from the media path.
 *
 * fvad runs at 8, 16, 32 or 48 kHz. Other input rates (11025, 22050, 24000, 44100) are resampled to 16 kHz first;
 * the resampler's filter delay (2.5-3.6 ms) is dropped from the start of its output, so event times stay on the
 * input's timeline.
 */
import { rmsDbfs } from '../media/level.js';
import { initResampler, Resampler } from '../media/resampler.js';

/** The raw Emscripten module (the package ships no types; only what we call is listed). */
interface FvadModule {
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  _fvad_reset(inst: number): void;
  _fvad_set_mode(inst: number, mode: number): number;
  _fvad_set_sample_rate(inst: number, rate: number): number;
  /** 1 voiced, 0 unvoiced, -1 bad frame length. */
  _fvad_process(inst: number, framePtr: number, samples: number): number;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** Replaced when the heap grows; read it afresh after any _malloc. */
  readonly HEAP16: Int16Array;
}

const FVAD_RATES = [8000, 16000, 32000, 48000];
/** fvad accepts 10, 20 or 30 ms frames; 20 ms matches the media path. */
const FRAME_MS = 20;

let fvad: FvadModule | null = null;
let loading: Promise<void> | null = null;

async function loadFvad(): Promise<FvadModule> {
  // A variable specifier: the package has no type declarations, and this keeps tsc from asking for one.
  const specifier = '@echogarden/fvad-wasm';
  const mod = (await import(specifier)) as { default: (arg?: object) => Promise<FvadModule> };
  return await mod.default();
}

/** Loads fvad and the resampler. Idempotent; concurrent calls share one promise; a failed load may be retried. */
export function initVad(): Promise<void> {
  if (loading === null) {
    loading = Promise.all([loadFvad(), initResampler()]).then(
      ([mod]) => {
        fvad = mod;
      },
      (err: unknown) => {
        loading = null;
        throw err;
      },
    );
  }
  return loading;
}

export type TurnEvent =
  /** `atMs`: start of the first voiced frame of the run that started speech. */
  | { readonly type: 'speech_started'; readonly atMs: number; readonly detectedAtMs: number }
  /** `atMs`: end of the last voiced frame; `detectedAtMs`: end of the frame that completed `endMs` of silence. */
  | { readonly type: 'speech_stopped'; readonly atMs: number; readonly detectedAtMs: number };

export interface TurnDetectorOptions {
  /** Input sample rate, Hz. */
  readonly sampleRate: number;
  /** fvad aggressiveness 0..3 (3 flags the least as speech). Default 3. */
  readonly mode?: 0 | 1 | 2 | 3;
  /** Voiced time that starts speech, ms. Default 80. */
  readonly startMs?: number;
  /** Unvoiced time that ends speech, ms. Default 500. */
  readonly endMs?: number;
  /** Frames quieter than this (dBFS, see media/level.ts) are never speech. Default -55. */
  readonly minDbfs?: number;
  /** A voiced frame must be this much louder than the noise floor, dB. Default 9. */
  readonly marginDb?: number;
  /** The noise floor is the quietest frame in this window, ms. Default 2000. */
  readonly floorWindowMs?: number;
  /** Called synchronously from push()/flush(). */
  readonly onEvent?: (event: TurnEvent) => void;
}

/** Block length of the running minimum behind the noise floor. */
const FLOOR_BLOCK_MS = 200;

export class TurnDetector {
  readonly sampleRate: number;
  /** The rate fvad runs at (the input rate, or 16 kHz when the input is resampled). */
  readonly analysisRate: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly #minDbfs: number;
  readonly #marginDb: number;
  readonly #onEvent: ((event: TurnEvent) => void) | undefined;
  readonly #mod: FvadModule;
  #inst: number;
  #heapPtr: number;
  readonly #resampler: Resampler | null;
  /** Resampler output still to drop so analysis time lines up with input time (its filter delay). */
  #skip = 0;
  readonly #frame: Int16Array;
  #filled = 0;
  /** Analysis samples fully processed (whole frames). */
  #samples = 0;
  #speaking = false;
  #runStartMs = -1;
  #silenceMs = 0;
  #lastVoicedEndMs = 0;
  /** Running minimum: per-block minima in a ring, plus the block being filled. */
  readonly #blockMins: Float64Array;
  #blockIndex = 0;
  #blockFrames = 0;
  readonly #framesPerBlock: number;
  #currentMin = Number.POSITIVE_INFINITY;
  #voicedFrames = 0;
  #frames = 0;

  constructor(options: TurnDetectorOptions) {
    if (fvad === null) throw new Error('the VAD is not loaded: await initVad() first');
    const rate = options.sampleRate;
    if (!Number.isInteger(rate) || rate < 8000 || rate > 48000) {
      throw new RangeError(`sampleRate must be an integer in 8000..48000, got ${rate}`);
    }
    const mode = options.mode ?? 3;
    if (![0, 1, 2, 3].includes(mode)) throw new RangeError(`mode must be 0..3, got ${mode}`);
    this.sampleRate = rate;
    this.analysisRate = FVAD_RATES.includes(rate) ? rate : 16000;
    this.startMs = positive(options.startMs ?? 80, 'startMs');
    this.endMs = positive(options.endMs ?? 500, 'endMs');
    this.#minDbfs = options.minDbfs ?? -55;
    this.#marginDb = options.marginDb ?? 9;
    this.#onEvent = options.onEvent;
    const windowMs = positive(options.floorWindowMs ?? 2000, 'floorWindowMs');
    this.#blockMins = new Float64Array(Math.max(1, Math.round(windowMs / FLOOR_BLOCK_MS))).fill(
      Number.POSITIVE_INFINITY,
    );
    this.#framesPerBlock = FLOOR_BLOCK_MS / FRAME_MS;
    this.#resampler = this.analysisRate === rate ? null : new Resampler(rate, this.analysisRate);
    this.#skip = this.#resampler?.outputLatency ?? 0;
    this.#frame = new Int16Array((this.analysisRate * FRAME_MS) / 1000);
    const mod = fvad;
    this.#mod = mod;
    this.#inst = mod._fvad_new();
    this.#heapPtr = mod._malloc(this.#frame.length * 2);
    if (this.#inst === 0 || this.#heapPtr === 0) throw new Error('fvad: out of wasm memory');
    if (
      mod._fvad_set_mode(this.#inst, mode) !== 0 ||
      mod._fvad_set_sample_rate(this.#inst, this.analysisRate) !== 0
    ) {
      this.destroy();
      throw new Error('fvad rejected its configuration');
    }
  }

  /** Whether the caller is currently speaking (between speech_started and speech_stopped). */
  get speaking(): boolean {
    return this.#speaking;
  }

  /** Input time analysed so far, ms (whole frames). */
  get timeMs(): number {
    return (this.#samples * 1000) / this.analysisRate;
  }

  /** Share of frames that passed both fvad and the energy gate, for stats. */
  get voicedRatio(): number {
    return this.#frames === 0 ? 0 : this.#voicedFrames / this.#frames;
  }

  /** Feeds caller audio at `sampleRate`, in chunks of any size. Events fire synchronously. */
  push(pcm: Int16Array): void {
    if (this.#inst === 0) throw new Error('TurnDetector used after destroy()');
    const input = this.#resampler === null ? pcm : this.#resampler.process(pcm);
    const frame = this.#frame;
    const size = frame.length;
    let at = 0;
    if (this.#skip > 0) {
      at = Math.min(this.#skip, input.length);
      this.#skip -= at;
    }
    while (at < input.length) {
      const take = Math.min(size - this.#filled, input.length - at);
      frame.set(input.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === size) {
        this.#filled = 0;
        this.#processFrame(frame);
      }
    }
  }

  /** End of the input: a speech run in progress stops at its last voiced frame. */
  flush(): void {
    if (this.#speaking) {
      this.#speaking = false;
      this.#emit({ type: 'speech_stopped', atMs: this.#lastVoicedEndMs, detectedAtMs: this.timeMs });
    }
    this.#runStartMs = -1;
    this.#silenceMs = 0;
  }

  /** Forgets speech in progress (not the noise floor or the timeline), e.g. after a manual commit. */
  reset(): void {
    this.#speaking = false;
    this.#runStartMs = -1;
    this.#silenceMs = 0;
  }

  /** Frees the wasm memory. Idempotent. */
  destroy(): void {
    if (this.#inst !== 0) this.#mod._fvad_free(this.#inst);
    if (this.#heapPtr !== 0) this.#mod._free(this.#heapPtr);
    this.#inst = 0;
    this.#heapPtr = 0;
    this.#resampler?.destroy();
  }

  #processFrame(frame: Int16Array): void {
    const mod = this.#mod;
    mod.HEAP16.set(frame, this.#heapPtr >> 1);
    const vad = mod._fvad_process(this.#inst, this.#heapPtr, frame.length);
    const level = rmsDbfs(frame);
    const floor = this.#updateFloor(level);
    const voiced = vad === 1 && level > this.#minDbfs && level > floor + this.#marginDb;
    const startMs = this.timeMs;
    this.#samples += frame.length;
    const endMs = this.timeMs;
    this.#frames++;
    if (voiced) this.#voicedFrames++;
    if (!this.#speaking) {
      if (!voiced) {
        this.#runStartMs = -1;
        return;
      }
      if (this.#runStartMs < 0) this.#runStartMs = startMs;
      this.#lastVoicedEndMs = endMs;
      if (endMs - this.#runStartMs < this.startMs) return;
      this.#speaking = true;
      this.#silenceMs = 0;
      this.#emit({ type: 'speech_started', atMs: this.#runStartMs, detectedAtMs: endMs });
      this.#runStartMs = -1;
      return;
    }
    if (voiced) {
      this.#silenceMs = 0;
      this.#lastVoicedEndMs = endMs;
      return;
    }
    this.#silenceMs += FRAME_MS;
    if (this.#silenceMs < this.endMs) return;
    this.#speaking = false;
    this.#silenceMs = 0;
    this.#emit({ type: 'speech_stopped', atMs: this.#lastVoicedEndMs, detectedAtMs: endMs });
  }

  /**
   * Adds a frame level to the running minimum and returns the floor: the quietest frame of the last
   * `floorWindowMs` (before the window first fills, the quietest so far). Stationary noise sits within a few dB
   * of its own minimum, so it never clears the margin; speech does.
   */
  #updateFloor(level: number): number {
    if (level < this.#currentMin) this.#currentMin = level;
    let floor = this.#currentMin;
    const mins = this.#blockMins;
    for (let i = 0; i < mins.length; i++) if (mins[i]! < floor) floor = mins[i]!;
    if (++this.#blockFrames === this.#framesPerBlock) {
      mins[this.#blockIndex] = this.#currentMin;
      this.#blockIndex = (this.#blockIndex + 1) % mins.length;
      this.#currentMin = Number.POSITIVE_INFINITY;
      this.#blockFrames = 0;
    }
    return floor;
  }

  #emit(event: TurnEvent): void {
    this.#onEvent?.(event);
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** A speech segment on the input timeline, ms. */
export interface SpeechSegment {
  readonly startMs: number;
  readonly endMs: number;
}

/** Runs a detector over a whole buffer (offline: tests, scripts) and returns the speech segments. */
export function findSpeechSegments(
  pcm: Int16Array,
  sampleRate: number,
  options: Omit<TurnDetectorOptions, 'sampleRate' | 'onEvent'> = {},
): SpeechSegment[] {
  const segments: SpeechSegment[] = [];
  let start = -1;
  const detector = new TurnDetector({
    ...options,
    sampleRate,
    onEvent: (event) => {
      if (event.type === 'speech_started') start = event.atMs;
      else segments.push({ startMs: start, endMs: event.atMs });
    },
  });
  try {
    detector.push(pcm);
    detector.flush();
  } finally {
    detector.destroy();
  }
  return segments;
}
