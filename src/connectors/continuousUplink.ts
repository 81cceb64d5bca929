/**
 * Caller audio to a provider that expects continuous audio (Ultravox: "one second of audio each second ...
 * typically 20 ms chunks"; spec/ultravox.md §6). Vendor-free: frames leave one per tick of the process frame
 * clock; what the caller sends is queued (bounded) and released in order, and a tick with nothing queued sends
 * a frame of silence. A silent, late or absent caller (before the call is linked, on a jittery network) still
 * gives one second of audio per second, and a burst is smoothed out instead of arriving as overflow.
 */
import { type FrameClock, frameClock, type Tickable } from '../graph/clock.js';
import { type AudioFormat, frameBytes, silenceByte } from '../media/format.js';
import { PlayoutBuffer } from '../media/playout.js';

export interface ContinuousUplinkOptions {
  /** Most caller audio queued; the newest frames past it are dropped and counted. Default 500. */
  readonly maxQueuedMs?: number;
}

export class ContinuousUplink implements Tickable {
  readonly format: AudioFormat;
  readonly #queue: PlayoutBuffer;
  readonly #silence: Uint8Array;
  readonly #send: (frame: Uint8Array) => void;
  readonly #clock: FrameClock;
  #running = false;
  #sentThisTick = false;
  /** Frames sent, silence included. */
  framesSent = 0;
  /** Frames of silence sent because nothing was queued. */
  silentFrames = 0;
  readonly #emit = (frame: Uint8Array): void => {
    this.#sentThisTick = true;
    this.framesSent++;
    this.#send(frame);
  };

  constructor(
    format: AudioFormat,
    send: (frame: Uint8Array) => void,
    options: ContinuousUplinkOptions = {},
    clock: FrameClock = frameClock,
  ) {
    this.format = format;
    this.#send = send;
    this.#clock = clock;
    // No lead: exactly one frame leaves per tick.
    this.#queue = new PlayoutBuffer(format, {
      leadFrames: 0,
      maxBufferedMs: options.maxQueuedMs ?? 500,
      frameMs: clock.periodMs,
    });
    this.#silence = new Uint8Array(frameBytes(format, clock.periodMs)).fill(silenceByte(format.encoding));
  }

  /** Caller frames dropped because the queue was full. */
  get droppedFrames(): number {
    return this.#queue.droppedFrames;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Queues caller audio (any size) in `format`. Ignored unless running. */
  push(chunk: Uint8Array): void {
    if (this.#running) this.#queue.push(chunk);
  }

  /** Starts sending on the next tick. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#clock.add(this);
  }

  /** Stops and drops what is queued. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.delete(this);
    this.#queue.clear();
  }

  onTick(): void {
    if (!this.#running) return;
    this.#sentThisTick = false;
    this.#queue.tick(this.#emit);
    if (this.#sentThisTick) return;
    this.framesSent++;
    this.silentFrames++;
    this.#send(this.#silence);
  }
}
