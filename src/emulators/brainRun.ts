/**
 * Running one brain answer, vendor-free (the OpenAI Realtime and Ultravox emulators both use it): read the
 * brain's parts until the stream ends or the run is aborted, convert its audio to the wire format (one converter
 * per source rate, state kept across parts), cut it into chunks, pace the chunks, and hand every part to the
 * vendor's handlers, which turn them into protocol messages.
 *
 * Pacing is a {@link Pacer}: OpenAI sends at a multiple of real time ({@link realTimeMultiple}); Ultravox keeps
 * the client's playout buffer at most `clientBufferSizeMs` ahead ({@link ClientBufferPacer}).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrainPart } from '../agent/brain.js';
import { type Converter, createConverter } from '../media/convert.js';
import { type AudioFormat, audioFormat, bytesToMs, frameBytes } from '../media/format.js';
import { pcm16Bytes } from '../media/pcm.js';

export type ToolCallPart = Extract<BrainPart, { type: 'tool_call' }>;

/** What the vendor does with each part. Called synchronously, in order; none is called after an abort. */
export interface BrainRunHandlers {
  userTranscript(text: string): void;
  text(delta: string): void;
  /** One chunk of audio in the run's format, `ms` long, already paced. */
  audio(chunk: Uint8Array, ms: number): void;
  toolCall(part: ToolCallPart): void;
  hangup(reason: string | undefined): void;
}

/** When the next audio chunk may leave. */
export interface Pacer {
  /** How long to wait before sending `ms` more audio; 0 or less: now. */
  delayMs(ms: number): number;
  /** `ms` of audio was just sent. */
  sent(ms: number): void;
}

export interface BrainRunOptions {
  /** The wire format audio is converted to. */
  readonly format: AudioFormat;
  /** Audio is handed out in chunks of this many ms. */
  readonly chunkMs: number;
  readonly pacer: Pacer;
  /** Whether audio is wanted now; when false, audio parts are skipped (not converted, not paced). */
  readonly wantsAudio: () => boolean;
}

export type BrainRunOutcome = 'completed' | 'aborted';

export class BrainRun {
  readonly #options: BrainRunOptions;
  readonly #handlers: BrainRunHandlers;
  readonly #abort = new AbortController();
  #converter: { rate: number; converter: Converter | null } | null = null;

  constructor(options: BrainRunOptions, handlers: BrainRunHandlers) {
    this.#options = options;
    this.#handlers = handlers;
  }

  /** Aborted by {@link abort}; pass it to the brain as `turn.signal`. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Stops the run: no handler is called afterwards. Idempotent. */
  abort(): void {
    this.#abort.abort();
    this.#release();
  }

  /** Reads `parts` to the end (or the abort). Rejects when the brain throws, unless the run was aborted. */
  async run(parts: AsyncIterable<BrainPart>): Promise<BrainRunOutcome> {
    try {
      for await (const part of parts) {
        if (this.aborted) return 'aborted';
        await this.#handle(part);
        if (this.aborted) return 'aborted';
      }
      return this.aborted ? 'aborted' : 'completed';
    } catch (err) {
      if (this.aborted) return 'aborted';
      throw err;
    } finally {
      this.#release();
    }
  }

  async #handle(part: BrainPart): Promise<void> {
    const h = this.#handlers;
    switch (part.type) {
      case 'text':
        if (part.text !== '') h.text(part.text);
        return;
      case 'audio':
        if (this.#options.wantsAudio()) await this.#audio(part.pcm, part.sampleRate);
        return;
      case 'tool_call':
        h.toolCall(part);
        return;
      case 'user_transcript':
        h.userTranscript(part.text);
        return;
      case 'hangup':
        h.hangup(part.reason);
        return;
    }
  }

  async #audio(pcm: Int16Array, rate: number): Promise<void> {
    const { format, chunkMs, pacer } = this.#options;
    const wire = this.#convert(pcm, rate);
    const step = Math.max(frameBytes(format, chunkMs), 2);
    for (let at = 0; at < wire.length; at += step) {
      const chunk = wire.subarray(at, Math.min(at + step, wire.length));
      const ms = bytesToMs(format, chunk.length);
      await this.#pace(pacer.delayMs(ms));
      if (this.aborted) return;
      pacer.sent(ms);
      this.#handlers.audio(chunk, ms);
    }
  }

  async #pace(wait: number): Promise<void> {
    if (!(wait > 0)) return;
    try {
      await sleep(wait, undefined, { signal: this.#abort.signal });
    } catch {
      // Aborted: the caller checks.
    }
  }

  #convert(pcm: Int16Array, rate: number): Uint8Array {
    if (this.#converter?.rate !== rate) {
      this.#release();
      this.#converter = {
        rate,
        converter: createConverter(audioFormat('pcm16', rate), this.#options.format),
      };
    }
    const bytes = pcm16Bytes(pcm);
    const converter = this.#converter.converter;
    return converter === null ? Buffer.from(bytes) : converter.convert(bytes);
  }

  #release(): void {
    this.#converter?.converter?.destroy();
    this.#converter = null;
  }
}

/** Audio at `speed` × real time, from the first chunk on (Infinity: as fast as it comes). One per run. */
export function realTimeMultiple(speed: number): Pacer {
  let start = -1;
  let sentMs = 0;
  return {
    delayMs() {
      if (start < 0) start = performance.now();
      return start + sentMs / speed - performance.now();
    },
    sent(ms) {
      sentMs += ms;
    },
  };
}

/**
 * A model of the client's playout buffer: audio plays in real time from when it arrives (or from when what was
 * queued before it ends), and a chunk may leave while the client holds at most `bufferMs` (at least one chunk).
 * Shared by every run of a session, so consecutive answers queue behind each other.
 */
export class ClientBufferPacer implements Pacer {
  readonly bufferMs: number;
  readonly #now: () => number;
  /** When the client will have played everything sent, in `now()` ms. */
  #playoutEnd = 0;

  constructor(bufferMs: number, now: () => number = () => performance.now()) {
    this.bufferMs = bufferMs;
    this.#now = now;
  }

  delayMs(ms: number): number {
    return this.queuedMs + ms - Math.max(this.bufferMs, ms);
  }

  sent(ms: number): void {
    this.#playoutEnd = Math.max(this.#playoutEnd, this.#now()) + ms;
  }

  /** Audio the client still holds. */
  get queuedMs(): number {
    return Math.max(0, this.#playoutEnd - this.#now());
  }

  /** The client dropped what it held (barge-in). */
  clear(): void {
    this.#playoutEnd = 0;
  }
}
