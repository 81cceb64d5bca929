/**
 * Cuts a byte stream of any chunking into fixed-duration frames. Chunks may be of any size, odd byte counts of
 * PCM16 included (a sample split across two chunks is joined). Bytes are copied at most once, into the frame that
 * is handed out (not at all for a handed-over chunk that is exactly one frame); the backlog is never concatenated.
 */
import type { AudioFormat } from './format.js';
import { bytesPerSample, FRAME_MS, silenceByte } from './format.js';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

export class Framer {
  readonly format: AudioFormat;
  readonly frameMs: number;
  readonly #bytesPerSample: number;
  /** Samples per frame as the fraction num/den (11025 Hz × 20 ms = 441/2). */
  readonly #num: number;
  readonly #den: number;
  /** Frame index modulo #den: frame sizes repeat with that period. */
  #index = 0;
  /** Bytes of the frame being filled. */
  #size: number;
  #pending: Buffer | null = null;
  #filled = 0;

  /**
   * Frames are `frameMs` (an integer, default 20) long, so frameBytes(format, frameMs) bytes. When that is a
   * fractional number of samples (11025 Hz: 220.5 per 20 ms), frame k holds floor((k+1)·s) − floor(k·s)
   * samples, i.e. 220, 221, 220, 221…: every frame is whole samples and the average duration is exact.
   */
  constructor(format: AudioFormat, frameMs: number = FRAME_MS) {
    if (!Number.isInteger(frameMs) || frameMs <= 0 || frameMs > 1000) {
      throw new RangeError(`frameMs must be an integer in 1..1000, got ${frameMs}`);
    }
    this.format = format;
    this.frameMs = frameMs;
    this.#bytesPerSample = bytesPerSample(format.encoding);
    const g = gcd(format.sampleRate * frameMs, 1000);
    this.#num = (format.sampleRate * frameMs) / g;
    this.#den = 1000 / g;
    this.#size = this.#frameSize(0);
  }

  /** Bytes held back, waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.#filled;
  }

  /** Bytes of the next frame to be emitted. */
  get nextFrameBytes(): number {
    return this.#size;
  }

  /**
   * Adds bytes; calls `emit` with each completed frame, a buffer the receiver may keep. With `owned` the caller
   * hands `chunk` over (it will not reuse or change it): a chunk that is exactly the next frame, with nothing
   * held back, is then emitted as is, with no copy (the common case on the frame path: one frame per message).
   */
  push(chunk: Uint8Array, emit: (frame: Uint8Array) => void, owned = false): void {
    const len = chunk.length;
    if (owned && len === this.#size && this.#filled === 0) {
      this.#advance();
      emit(chunk);
      return;
    }
    let off = 0;
    if (this.#filled > 0) {
      const pending = this.#pending!;
      off = Math.min(this.#size - this.#filled, len);
      pending.set(off === len ? chunk : chunk.subarray(0, off), this.#filled);
      this.#filled += off;
      if (this.#filled < this.#size) return;
      this.#pending = null;
      this.#filled = 0;
      this.#advance();
      emit(pending);
    }
    while (len - off >= this.#size) {
      const size = this.#size;
      const frame = Buffer.allocUnsafe(size);
      frame.set(chunk.subarray(off, off + size));
      off += size;
      this.#advance();
      emit(frame);
    }
    if (off < len) {
      const pending = Buffer.allocUnsafe(this.#size);
      pending.set(off === 0 ? chunk : chunk.subarray(off));
      this.#pending = pending;
      this.#filled = len - off;
    }
  }

  /**
   * Emits what is held back as one last frame and starts the next stream at frame 0. By default the partial
   * frame is emitted as is, minus a dangling half PCM16 sample; with `pad` it is filled with silence to full
   * frame length. Nothing is emitted when no whole sample is held back.
   */
  flush(emit: (frame: Uint8Array) => void, pad = false): void {
    const pending = this.#pending;
    let bytes = this.#filled;
    this.reset();
    if (pending === null || bytes === 0) return;
    bytes -= bytes % this.#bytesPerSample;
    if (bytes === 0) return;
    if (pad) {
      pending.fill(silenceByte(this.format.encoding), bytes);
      emit(pending);
    } else {
      emit(pending.subarray(0, bytes));
    }
  }

  /** Drops the held-back bytes and starts again at frame 0. */
  reset(): void {
    this.#pending = null;
    this.#filled = 0;
    this.#index = 0;
    this.#size = this.#frameSize(0);
  }

  #advance(): void {
    this.#index = this.#index + 1 === this.#den ? 0 : this.#index + 1;
    if (this.#den !== 1) this.#size = this.#frameSize(this.#index);
  }

  #frameSize(k: number): number {
    const samples = Math.floor(((k + 1) * this.#num) / this.#den) - Math.floor((k * this.#num) / this.#den);
    return samples * this.#bytesPerSample;
  }
}
