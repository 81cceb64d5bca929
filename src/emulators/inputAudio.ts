/**
 * An emulated session's input audio and its timeline, vendor-free (the OpenAI Realtime and Ultravox emulators
 * both use it). Appended audio is decoded to PCM16 at the format's own rate (24 kHz PCM, 8 kHz G.711) into one
 * growable array; positions are kept in ms "from the start of all audio written this session" (OpenAI's
 * `audio_start_ms`/`audio_end_ms` clock). With turn detection on, the energy VAD runs over 20 ms frames as audio
 * arrives, and audio older than the prefix padding is dropped while nobody speaks. The errors it throws are the
 * vendor's ({@link InputAudioErrors}).
 */
import { type AudioFormat, FRAME_MS } from '../media/format.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../media/g711.js';
import { rmsDbfs } from '../media/level.js';
import { pcm16Bytes, pcm16View } from '../media/pcm.js';
import { EnergyVad, type EnergyVadOptions, type VadEvent } from './vad.js';

/** The errors `append` throws, in the vendor's protocol. */
export interface InputAudioErrors {
  /** Appending would hold more than `maxMs` of audio. */
  bufferFull(maxMs: number): Error;
  /** PCM16 input of an odd number of bytes. */
  oddBytes(): Error;
}

const PLAIN_ERRORS: InputAudioErrors = {
  bufferFull: (maxMs) => new RangeError(`the input buffer holds at most ${maxMs} ms`),
  oddBytes: () => new RangeError('PCM16 input must be whole 16-bit samples (an even number of bytes)'),
};

export class InputAudio {
  #format: AudioFormat;
  #rate: number;
  #buf: Int16Array;
  /** Samples held, from #buf[0]. */
  #len = 0;
  /** Absolute sample index (in this format) of #buf[0]. */
  #start = 0;
  /** Timeline ms at absolute sample 0 of this format (formats can change mid-session). */
  #baseMs = 0;
  /** Absolute sample index of the next frame the VAD has not seen. */
  #vadPos = 0;
  #vad: EnergyVad | null = null;
  #keepMs = 0;
  readonly #maxMs: number;
  readonly #errors: InputAudioErrors;

  constructor(format: AudioFormat, maxMs: number, errors: InputAudioErrors = PLAIN_ERRORS) {
    this.#format = format;
    this.#rate = format.sampleRate;
    this.#buf = new Int16Array(this.#rate);
    this.#maxMs = maxMs;
    this.#errors = errors;
  }

  get format(): AudioFormat {
    return this.#format;
  }

  /** Audio held, ms. */
  get heldMs(): number {
    return (this.#len * 1000) / this.#rate;
  }

  /** Timeline position of the start of the held audio, ms. */
  get startMs(): number {
    return this.#msAt(this.#start);
  }

  /** Timeline position of the end of all audio written, ms. */
  get endMs(): number {
    return this.#msAt(this.#start + this.#len);
  }

  get speaking(): boolean {
    return this.#vad?.speaking ?? false;
  }

  /**
   * Turns the VAD on (with `keepMs` of audio kept before speech: the prefix padding) or off (manual commits).
   * Any speech in progress is forgotten.
   */
  setVad(options: EnergyVadOptions | null, keepMs: number): void {
    this.#vad = options === null ? null : new EnergyVad(options);
    this.#keepMs = keepMs;
    this.#vadPos = this.#start + this.#len;
  }

  /** A new input format: the held audio is dropped, the timeline goes on. */
  setFormat(format: AudioFormat): void {
    if (format === this.#format) return;
    this.#baseMs = this.endMs;
    this.#format = format;
    this.#rate = format.sampleRate;
    this.#buf = new Int16Array(this.#rate);
    this.#len = 0;
    this.#start = 0;
    this.#vadPos = 0;
    this.#vad?.reset();
  }

  /** Appends wire-format audio; returns the VAD events it caused. Throws (keeping nothing) past the limit. */
  append(wire: Uint8Array): VadEvent[] {
    const pcm = this.#decode(wire);
    if (((this.#len + pcm.length) * 1000) / this.#rate > this.#maxMs)
      throw this.#errors.bufferFull(this.#maxMs);
    this.#push(pcm);
    return this.#runVad();
  }

  /**
   * With the VAD on and nobody speaking, drops audio older than the prefix padding (the service keeps no
   * silence). Call after handling the events of an append, which may still need that audio.
   */
  trimIdle(): void {
    if (this.#vad !== null && !this.#vad.speaking) this.#dropBefore(this.endMs - this.#keepMs);
  }

  /**
   * Takes the audio between two timeline points (clamped to what is held) and drops everything before `toMs`.
   * Returns the PCM16 samples (a copy).
   */
  take(fromMs: number, toMs: number): Int16Array {
    const from = this.#clampSample(fromMs);
    const to = Math.max(from, this.#clampSample(toMs));
    const out = this.#buf.slice(from - this.#start, to - this.#start);
    this.#dropBeforeSample(to);
    return out;
  }

  /** Drops all held audio (the timeline goes on). */
  clear(): void {
    this.#dropBeforeSample(this.#start + this.#len);
    this.#vad?.reset();
    this.#vadPos = this.#start;
  }

  /** PCM16 in this buffer's format, encoded back to wire bytes (G.711 round trips exactly). */
  encode(pcm: Int16Array): Uint8Array {
    if (this.#format.encoding === 'ulaw') return ulawEncode(pcm, Buffer.allocUnsafe(pcm.length));
    if (this.#format.encoding === 'alaw') return alawEncode(pcm, Buffer.allocUnsafe(pcm.length));
    return Buffer.from(pcm16Bytes(pcm));
  }

  #decode(wire: Uint8Array): Int16Array {
    if (this.#format.encoding === 'ulaw') return ulawDecode(wire);
    if (this.#format.encoding === 'alaw') return alawDecode(wire);
    if ((wire.byteLength & 1) !== 0) throw this.#errors.oddBytes();
    return pcm16View(wire);
  }

  #push(pcm: Int16Array): void {
    const need = this.#len + pcm.length;
    if (need > this.#buf.length) {
      const grown = new Int16Array(Math.max(need, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(pcm, this.#len);
    this.#len = need;
  }

  #runVad(): VadEvent[] {
    const vad = this.#vad;
    if (vad === null) return [];
    const events: VadEvent[] = [];
    const frame = (this.#rate * FRAME_MS) / 1000;
    const end = this.#start + this.#len;
    while (this.#vadPos + frame <= end) {
      const at = this.#vadPos - this.#start;
      const level = rmsDbfs(this.#buf.subarray(at, at + frame));
      const event = vad.process(level, this.#msAt(this.#vadPos), this.#msAt(this.#vadPos + frame));
      if (event !== null) events.push(event);
      this.#vadPos += frame;
    }
    return events;
  }

  #dropBefore(ms: number): void {
    this.#dropBeforeSample(this.#clampSample(ms));
  }

  #dropBeforeSample(sample: number): void {
    const n = Math.min(Math.max(0, sample - this.#start), this.#len);
    if (n === 0) return;
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
    this.#start += n;
  }

  #clampSample(ms: number): number {
    const s = Math.round(((ms - this.#baseMs) * this.#rate) / 1000);
    return Math.min(Math.max(s, this.#start), this.#start + this.#len);
  }

  #msAt(sample: number): number {
    return this.#baseMs + (sample * 1000) / this.#rate;
  }
}
