/**
 * An energy voice-activity detector for the emulators' server-side turn detection: frame RMS in dBFS against a
 * threshold, with hysteresis. Speech starts after `minSpeechMs` of consecutive frames at or above the start
 * level and stops after `silenceMs` of consecutive frames below the (lower) stop level. It is deliberately
 * simple and deterministic: tests drive it with tone bursts and digital silence.
 *
 * Vendor-free (the Ultravox emulator uses it too); it could move to src/media/ once the agent needs one.
 */

export interface EnergyVadOptions {
  /** Level at which a frame counts as speech, dBFS (see {@link thresholdToDbfs}). */
  readonly startDb: number;
  /** Speech continues while frames stay above `startDb - hysteresisDb`. Default 6. */
  readonly hysteresisDb?: number;
  /** Voiced time needed to declare speech, ms. Default 40 (two 20 ms frames), so a click does not count. */
  readonly minSpeechMs?: number;
  /** Unvoiced time that ends speech, ms. */
  readonly silenceMs: number;
}

export type VadEvent =
  /** `atMs`: start of the first voiced frame of the run. */
  | { readonly type: 'start'; readonly atMs: number }
  /** `atMs`: end of the frame that completed the silence window; `lastVoicedMs`: end of the last voiced frame. */
  | { readonly type: 'stop'; readonly atMs: number; readonly lastVoicedMs: number };

/**
 * Maps OpenAI's `threshold` (0..1, "higher needs louder audio") to a start level: 0 → -70 dBFS, 0.5 → -40 dBFS
 * (quiet speech is about -35), 1 → -10 dBFS.
 */
export function thresholdToDbfs(threshold: number): number {
  return -70 + 60 * Math.min(1, Math.max(0, threshold));
}

export class EnergyVad {
  readonly #startDb: number;
  readonly #stopDb: number;
  readonly #minSpeechMs: number;
  readonly #silenceMs: number;
  #speaking = false;
  /** Start of the current voiced run (not yet speech), or -1. */
  #runStartMs = -1;
  /** Start of the current unvoiced run during speech, or -1. */
  #silenceStartMs = -1;
  #lastVoicedMs = 0;

  constructor(options: EnergyVadOptions) {
    this.#startDb = options.startDb;
    this.#stopDb = options.startDb - (options.hysteresisDb ?? 6);
    this.#minSpeechMs = options.minSpeechMs ?? 40;
    this.#silenceMs = options.silenceMs;
  }

  get speaking(): boolean {
    return this.#speaking;
  }

  /** Feeds one frame's level; returns the event it triggers, if any. Frames must be contiguous and in order. */
  process(levelDb: number, frameStartMs: number, frameEndMs: number): VadEvent | null {
    if (!this.#speaking) {
      if (levelDb < this.#startDb) {
        this.#runStartMs = -1;
        return null;
      }
      if (this.#runStartMs < 0) this.#runStartMs = frameStartMs;
      this.#lastVoicedMs = frameEndMs;
      if (frameEndMs - this.#runStartMs < this.#minSpeechMs) return null;
      this.#speaking = true;
      this.#silenceStartMs = -1;
      const atMs = this.#runStartMs;
      this.#runStartMs = -1;
      return { type: 'start', atMs };
    }
    if (levelDb >= this.#stopDb) {
      this.#silenceStartMs = -1;
      this.#lastVoicedMs = frameEndMs;
      return null;
    }
    if (this.#silenceStartMs < 0) this.#silenceStartMs = frameStartMs;
    if (frameEndMs - this.#silenceStartMs < this.#silenceMs) return null;
    this.#speaking = false;
    this.#silenceStartMs = -1;
    return { type: 'stop', atMs: frameEndMs, lastVoicedMs: this.#lastVoicedMs };
  }

  /** Forgets any speech in progress (after a manual commit or clear). */
  reset(): void {
    this.#speaking = false;
    this.#runStartMs = -1;
    this.#silenceStartMs = -1;
  }
}
