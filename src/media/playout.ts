/**
 * One outbound leg's playout buffer: the audio a caller is about to hear, released in real time. Pure state, no
 * timers: a clock calls tick() every frame period, and each tick releases what the caller should receive now.
 *
 * Upstream (an AI provider) sends audio in bursts, often many seconds in a few hundred ms. The buffer absorbs the
 * burst, caps it, and releases one frame per tick after a small lead, so a barge-in (clear()) drops everything
 * the caller has not been sent yet, and playedSamples counts what was really sent (the truth for truncation).
 */
import type { AudioFormat } from './format.js';
import { bytesPerSample, bytesToMs } from './format.js';
import { Framer } from './framer.js';

export interface PlayoutOptions {
  /** Frames sent ahead of real time, to ride out network jitter on the caller side. Default 3. */
  leadFrames?: number;
  /** Most audio held; frames pushed beyond it are dropped (newest first) and counted. Default 10000. */
  maxBufferedMs?: number;
  /** Consecutive empty time after which a playing stream is reported ended. Default 1000. */
  endAfterMs?: number;
  /** Frame duration, an integer number of ms. Default 20. */
  frameMs?: number;
  /**
   * Frames the far end may fall behind real time while a stream plays (late audio from upstream jitter or a
   * stall, which it may then take at once) before the gap counts as a pause and the lead is rebuilt from zero.
   * Default 0: every empty tick is an underrun. With 0, a real-time source (audio that arrives at 1× speed: a
   * streaming provider, a relayed caller) turns its jitter into latency: each late burst beyond the lead leaves a
   * standing queue that never drains while the source streams.
   */
  jitterFrames?: number;
}

export interface PlayoutEvents {
  onStart?: () => void;
  onEnd?: () => void;
}

export class PlayoutBuffer {
  readonly format: AudioFormat;
  readonly leadFrames: number;
  readonly maxBufferedMs: number;
  readonly endAfterMs: number;
  readonly frameMs: number;
  readonly jitterFrames: number;
  readonly #framer: Framer;
  readonly #events: PlayoutEvents;
  readonly #bytesPerSample: number;
  readonly #endAfterTicks: number;
  /** A ring of queued frames, sized for maxBufferedMs. */
  readonly #ring: (Uint8Array | undefined)[];
  #head = 0;
  #count = 0;
  #queuedBytes = 0;
  /** Frames the far end holds beyond real time: +1 per frame sent, −1 per tick. */
  #ahead = 0;
  #playing = false;
  #emptyTicks = 0;
  /** Frames released by release() since the last tick (they count as activity for endAfterMs). */
  #releasedOffTick = 0;
  /** The source has been silent for longer than jitterFrames: no more lateness is remembered until it plays. */
  #paused = false;
  /** Frames still to release before a requested end; -1 when no end is pending. */
  #endIn = -1;
  #played = 0;
  #dropped = 0;
  /** Bound once, so the framer's callback allocates nothing per frame. */
  readonly #enqueue = (frame: Uint8Array): void => {
    if (this.#count === this.#ring.length) {
      this.#dropped++;
      return;
    }
    this.#ring[(this.#head + this.#count) % this.#ring.length] = frame;
    this.#count++;
    this.#queuedBytes += frame.length;
  };

  constructor(format: AudioFormat, options: PlayoutOptions = {}, events: PlayoutEvents = {}) {
    const {
      leadFrames = 3,
      maxBufferedMs = 10000,
      endAfterMs = 1000,
      frameMs = 20,
      jitterFrames = 0,
    } = options;
    if (!Number.isInteger(leadFrames) || leadFrames < 0) {
      throw new RangeError(`leadFrames must be a non-negative integer, got ${leadFrames}`);
    }
    if (!Number.isInteger(jitterFrames) || jitterFrames < 0) {
      throw new RangeError(`jitterFrames must be a non-negative integer, got ${jitterFrames}`);
    }
    if (!(maxBufferedMs >= frameMs)) {
      throw new RangeError(`maxBufferedMs must be at least one frame (${frameMs} ms), got ${maxBufferedMs}`);
    }
    if (!(endAfterMs >= 0)) throw new RangeError(`endAfterMs must be >= 0, got ${endAfterMs}`);
    this.format = format;
    this.leadFrames = leadFrames;
    this.maxBufferedMs = maxBufferedMs;
    this.endAfterMs = endAfterMs;
    this.frameMs = frameMs;
    this.jitterFrames = jitterFrames;
    this.#framer = new Framer(format, frameMs);
    this.#events = events;
    this.#bytesPerSample = bytesPerSample(format.encoding);
    // At least one empty tick: "nothing to release" can only be seen on a tick.
    this.#endAfterTicks = Math.max(1, Math.ceil(endAfterMs / frameMs));
    this.#ring = new Array<Uint8Array | undefined>(Math.floor(maxBufferedMs / frameMs));
  }

  /**
   * Queues audio of any size; it is cut into frames here. Frames that do not fit under maxBufferedMs are
   * dropped (the newest: what is queued is what the caller expects to hear next) and counted in droppedFrames.
   * With `owned` the caller hands `chunk` over, and a chunk of exactly one frame is queued without a copy.
   */
  push(chunk: Uint8Array, owned = false): void {
    this.#framer.push(chunk, this.#enqueue, owned);
  }

  /**
   * One frame period. Sends frames while the far end holds no more than leadFrames: a fresh stream starts with
   * leadFrames + 1 frames at once, then one a tick; after an underrun the lead builds up again. Fires onStart
   * before the first frame after idle, and onEnd when the stream ends (see end() and endAfterMs).
   */
  tick(emit: (frame: Uint8Array) => void): void {
    // While playing, the far end may fall up to jitterFrames behind (a negative lead: late audio it is owed and
    // may take at once). One more empty tick makes it a pause: the lead starts again from zero.
    const floor = this.#playing && !this.#paused ? -this.jitterFrames : 0;
    if (this.#ahead > floor) this.#ahead--;
    else if (this.#ahead < 0) {
      this.#ahead = 0;
      this.#paused = true;
    }
    const released = this.#release(emit) + this.#releasedOffTick;
    this.#releasedOffTick = 0;
    if (released > 0) {
      this.#emptyTicks = 0;
    } else if (this.#playing && ++this.#emptyTicks >= this.#endAfterTicks) {
      this.#finish();
    }
  }

  /**
   * Releases at once, between ticks, what the far end may hold now: queued frames while it is no more than
   * leadFrames ahead of real time. A frame from a real-time source then leaves as it arrives instead of waiting
   * up to a tick; a burst still leaves at the lead and then one frame a tick. Returns the frames released.
   */
  release(emit: (frame: Uint8Array) => void): number {
    const released = this.#release(emit);
    this.#releasedOffTick += released;
    return released;
  }

  #release(emit: (frame: Uint8Array) => void): number {
    let released = 0;
    while (this.#ahead <= this.leadFrames && this.#count > 0) {
      const frame = this.#shift();
      if (!this.#playing) {
        this.#playing = true;
        this.#events.onStart?.();
      }
      this.#played += frame.length / this.#bytesPerSample;
      this.#ahead++;
      this.#paused = false;
      released++;
      emit(frame);
      if (this.#endIn > 0 && --this.#endIn === 0) {
        this.#endIn = -1;
        this.#finish();
      }
    }
    return released;
  }

  /**
   * The source has finished. The partial last frame is padded with silence and queued; what is queued still
   * plays, and onEnd fires on the tick that releases the last of it (at once if nothing is queued), with no
   * endAfterMs wait. Audio pushed after end() plays after that end as a new stream (onStart again). One end is
   * pending at a time: a second end() before the first is reached moves it to the new end of the queue.
   */
  end(): void {
    this.#framer.flush(this.#enqueue, true);
    if (this.#count > 0) {
      this.#endIn = this.#count;
      return;
    }
    this.#endIn = -1;
    this.#finish();
  }

  /**
   * Barge-in: drops every queued frame and the partial framer bytes at once, and any pending end(). Returns the
   * number of frames dropped (not added to droppedFrames, which counts overflow only). If the stream was
   * playing, onEnd fires once and the buffer goes idle. The lead counter is kept: frames already sent are still
   * playing at the far end.
   */
  clear(): number {
    const dropped = this.#count;
    for (let i = 0; i < this.#count; i++) this.#ring[(this.#head + i) % this.#ring.length] = undefined;
    this.#head = 0;
    this.#count = 0;
    this.#queuedBytes = 0;
    this.#framer.reset();
    this.#endIn = -1;
    this.#finish();
    return dropped;
  }

  /** Samples released by tick(): what the caller was actually sent. */
  get playedSamples(): number {
    return this.#played;
  }

  /** Returns playedSamples and sets it to zero (e.g. at the start of each response). */
  resetPlayed(): number {
    const played = this.#played;
    this.#played = 0;
    return played;
  }

  /** Frames dropped because the buffer was full. */
  get droppedFrames(): number {
    return this.#dropped;
  }

  get bufferedFrames(): number {
    return this.#count;
  }

  /** Duration of the queued frames (not counting partial framer bytes). */
  get bufferedMs(): number {
    return bytesToMs(this.format, this.#queuedBytes);
  }

  /** Started and not yet ended. */
  get playing(): boolean {
    return this.#playing;
  }

  /** Nothing queued, not playing, no pending end: the clock may stop ticking this buffer. */
  get idle(): boolean {
    return this.#count === 0 && !this.#playing && this.#endIn < 0;
  }

  #shift(): Uint8Array {
    const frame = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#head = this.#head + 1 === this.#ring.length ? 0 : this.#head + 1;
    this.#count--;
    this.#queuedBytes -= frame.length;
    return frame;
  }

  #finish(): void {
    this.#emptyTicks = 0;
    // A new stream starts from an empty far end, never from a deficit.
    if (this.#ahead < 0) this.#ahead = 0;
    if (!this.#playing) return;
    this.#playing = false;
    this.#events.onEnd?.();
  }
}
