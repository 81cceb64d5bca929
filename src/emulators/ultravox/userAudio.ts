/**
 * The caller's side of an Ultravox call: binary s16le frames at `inputSampleRate` into the shared input buffer,
 * the agent's turn detector over them (src/agent/vad.ts: fvad ANDed with an energy gate, via ../inputAudio.ts),
 * and user turns out. `vadSettings` map onto it (spec/ultravox.md §2, §9.9-10): speech starts after
 * `minimumInterruptionDuration` of voice (at least 40 ms, so a click does not count; it is also what a barge-in
 * needs), a turn ends after `turnEndpointDelay` of silence, turns shorter than `minimumTurnDuration` are dropped,
 * and `frameActivationThreshold` sets the margin over the noise floor ({@link activationMarginDb}). The
 * detector's frames are 20 ms (Ultravox's are 32 ms), so durations round up to whole 20 ms frames.
 */
import type { BrainAudio } from '../../agent/brain.js';
import { audioFormat } from '../../media/format.js';
import { InputAudio, thresholdToMarginDb } from '../inputAudio.js';
import type { VadConfig } from './callConfig.js';

/** Audio kept before the start of speech. */
const PREFIX_MS = 300;
/** The shortest voice that starts speech, whatever `minimumInterruptionDuration` says. */
const MIN_START_MS = 40;

export interface UserTurn {
  readonly audio: BrainAudio;
}

export interface UserAudioEvents {
  /** The user started speaking. */
  started(): void;
  /** The user finished a turn. */
  turn(turn: UserTurn): void;
}

class BufferFull extends Error {}

const ERRORS = {
  bufferFull: () => new BufferFull(),
  oddBytes: () => new RangeError('audio frames must be whole s16le samples (an even number of bytes)'),
};

/**
 * Ultravox's `frameActivationThreshold` (0.1..1, default 0.1: the most sensitive it allows) as the detector's
 * margin over the noise floor: placed on OpenAI's 0.5..1 (0.1 → the detector's default 9 dB, 1 → 18 dB).
 */
export function activationMarginDb(threshold: number): number {
  return thresholdToMarginDb(0.5 + (0.5 * (threshold - 0.1)) / 0.9);
}

export class UserAudio {
  readonly #input: InputAudio;
  readonly #rate: number;
  readonly #vad: VadConfig;
  readonly #events: UserAudioEvents;
  #speechStartMs = -1;
  /** Audio received, ms (the wall-clock comparison of spec §6 starts from here). */
  receivedMs = 0;

  constructor(rate: number, vad: VadConfig, maxBufferMs: number, events: UserAudioEvents) {
    this.#rate = rate;
    this.#vad = vad;
    this.#events = events;
    this.#input = new InputAudio(audioFormat('pcm16', rate), maxBufferMs, ERRORS);
    this.#input.setVad({
      startMs: Math.max(MIN_START_MS, vad.minimumInterruptionDurationMs),
      endMs: vad.turnEndpointDelayMs,
      marginDb: activationMarginDb(vad.frameActivationThreshold),
      prefixMs: PREFIX_MS,
    });
  }

  get speaking(): boolean {
    return this.#input.speaking;
  }

  /** Takes one binary frame; returns a problem to report, or null. */
  append(frame: Uint8Array): string | null {
    let events: ReturnType<InputAudio['append']>;
    try {
      events = this.#input.append(frame);
    } catch (err) {
      if (!(err instanceof BufferFull)) return (err as Error).message;
      // The user spoke longer than the buffer holds: what is held becomes the turn.
      this.#endTurn(this.#input.endMs, this.#input.endMs);
      this.#input.clear();
      return this.append(frame);
    }
    this.receivedMs += (frame.length / 2 / this.#rate) * 1000;
    for (const event of events) {
      if (event.type === 'speech_started') {
        this.#speechStartMs = event.atMs;
        this.#events.started();
      } else {
        this.#endTurn(event.detectedAtMs, event.atMs);
      }
    }
    this.#input.trimIdle();
    return null;
  }

  /** The call ended: frees the turn detector. */
  close(): void {
    this.#input.close();
  }

  #endTurn(atMs: number, lastVoicedMs: number): void {
    const start = this.#speechStartMs < 0 ? this.#input.startMs : this.#speechStartMs;
    this.#speechStartMs = -1;
    const pcm = this.#input.take(Math.max(this.#input.startMs, start - PREFIX_MS), atMs);
    if (lastVoicedMs - start < this.#vad.minimumTurnDurationMs) return;
    this.#events.turn({ audio: { pcm, sampleRate: this.#rate } });
  }
}
