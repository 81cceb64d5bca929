/**
 * The caller's side of an Ultravox call: binary s16le frames at `inputSampleRate` into the shared input buffer,
 * the shared energy VAD over them (thresholds from `vadSettings`), and user turns out. Speech starts after
 * `minimumInterruptionDuration` of voice (at least 40 ms) and a turn ends after `turnEndpointDelay` of silence;
 * turns shorter than `minimumTurnDuration` are dropped.
 */
import type { BrainAudio } from '../../agent/brain.js';
import { audioFormat } from '../../media/format.js';
import { InputAudio } from '../inputAudio.js';
import { thresholdToDbfs } from '../vad.js';
import type { VadConfig } from './callConfig.js';

/** Audio kept before the start of speech. */
const PREFIX_MS = 300;

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

/** Ultravox's `frameActivationThreshold` (0.1..1, default 0.1) as a start level: -40 dBFS up to -10 dBFS. */
export function activationDbfs(threshold: number): number {
  return thresholdToDbfs(0.5 + (0.5 * (threshold - 0.1)) / 0.9);
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
    this.#input.setVad(
      {
        startDb: activationDbfs(vad.frameActivationThreshold),
        silenceMs: vad.turnEndpointDelayMs,
        minSpeechMs: Math.max(40, vad.minimumInterruptionDurationMs),
      },
      PREFIX_MS,
    );
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
      if (event.type === 'start') {
        this.#speechStartMs = event.atMs;
        this.#events.started();
      } else {
        this.#endTurn(event.atMs, event.lastVoicedMs);
      }
    }
    this.#input.trimIdle();
    return null;
  }

  #endTurn(atMs: number, lastVoicedMs: number): void {
    const start = this.#speechStartMs < 0 ? this.#input.startMs : this.#speechStartMs;
    this.#speechStartMs = -1;
    const pcm = this.#input.take(Math.max(this.#input.startMs, start - PREFIX_MS), atMs);
    if (lastVoicedMs - start < this.#vad.minimumTurnDurationMs) return;
    this.#events.turn({ audio: { pcm, sampleRate: this.#rate } });
  }
}
