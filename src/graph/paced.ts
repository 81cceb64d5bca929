import type { AudioFormat } from '../media/format.js';
import type { PlayoutEvents, PlayoutOptions } from '../media/playout.js';
import { PlayoutBuffer } from '../media/playout.js';
import type { FrameClock, Tickable } from './clock.js';
import { frameClock } from './clock.js';
import { mediaStats } from './stats.js';

export interface PacedOptions extends PlayoutOptions {
  /**
   * Release on arrival what the far end may hold now (see PlayoutBuffer.release) instead of waiting for the
   * next tick. Default false: frames leave on ticks only.
   */
  releaseOnPush?: boolean;
  /**
   * Start held: audio queues (up to maxBufferedMs) but nothing leaves, and the stream stays off the clock, until
   * resume(). For a source whose first audio may come before anything is listening to it. Default false.
   */
  held?: boolean;
}

/**
 * A bursty source made real time: audio pushed in any amount is released one 20 ms frame per clock tick (after
 * a small lead) to `sink`. Used wherever audio arrives faster than it plays: a WebSocket peer's inbound stream, a
 * provider's response audio. `clear()` is the barge-in primitive: nothing more leaves after it, on the next tick
 * at the latest. The stream joins the clock only while it has something to do.
 */
export class PacedStream implements Tickable {
  readonly buffer: PlayoutBuffer;
  readonly #sink: (frame: Uint8Array) => void;
  readonly #clock: FrameClock;
  readonly #releaseOnPush: boolean;
  #ticking = false;
  #closed = false;
  #held: boolean;

  constructor(
    format: AudioFormat,
    sink: (frame: Uint8Array) => void,
    options: PacedOptions = {},
    events: PlayoutEvents = {},
    clock: FrameClock = frameClock,
  ) {
    this.#sink = sink;
    this.#clock = clock;
    const { releaseOnPush = false, held = false, ...playout } = options;
    this.#releaseOnPush = releaseOnPush;
    this.#held = held;
    this.buffer = new PlayoutBuffer(format, playout, events);
  }

  get format(): AudioFormat {
    return this.buffer.format;
  }

  /**
   * Queues audio; it starts leaving on the next tick (at once with `releaseOnPush`, up to the lead). `owned`: the
   * caller hands `chunk` over (see PlayoutBuffer.push), so a one-frame chunk is queued without a copy.
   */
  push(chunk: Uint8Array, owned = false): void {
    if (this.#closed) return;
    const before = this.buffer.droppedFrames;
    this.buffer.push(chunk, owned);
    mediaStats.framesDropped += this.buffer.droppedFrames - before;
    if (this.#releaseOnPush && !this.#held) mediaStats.framesPaced += this.buffer.release(this.#sink);
    this.#join();
  }

  /** Ends the hold (see PacedOptions.held): what queued starts to play now. A no-op when not held. */
  resume(): void {
    if (!this.#held || this.#closed) return;
    this.#held = false;
    if (this.buffer.idle) return;
    if (this.#releaseOnPush) mediaStats.framesPaced += this.buffer.release(this.#sink);
    this.#join();
  }

  /** The source has finished: what is queued still plays, then the end is reported at once. */
  end(): void {
    if (this.#closed) return;
    this.buffer.end();
    // end() may turn a partial frame into a real one on a stream that had left the clock: rejoin to play it.
    if (!this.buffer.idle) this.#join();
    else this.#syncClock();
  }

  /** Drops everything not yet released. Returns the number of frames dropped. */
  clear(): number {
    const dropped = this.buffer.clear();
    this.#syncClock();
    return dropped;
  }

  /** Stops for good: leaves the clock, drops what is queued. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.buffer.clear();
    this.#leave();
  }

  onTick(): void {
    const before = this.buffer.playedSamples;
    this.buffer.tick(this.#sink);
    if (this.buffer.playedSamples !== before) mediaStats.framesPaced++;
    this.#syncClock();
  }

  #syncClock(): void {
    if (this.buffer.idle) this.#leave();
  }

  #join(): void {
    if (!this.#ticking && !this.#held) {
      this.#ticking = true;
      this.#clock.add(this);
    }
  }

  #leave(): void {
    if (this.#ticking) {
      this.#ticking = false;
      this.#clock.delete(this);
    }
  }
}
