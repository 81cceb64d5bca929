/**
 * An emulated session's input audio and its timeline, vendor-free (the OpenAI Realtime and Ultravox emulators
 * both use it). Appended audio is decoded to PCM16 at the format's own rate (24 kHz PCM, 8 kHz G.711) into one
 * growable array; positions are kept in ms "from the start of all audio written this session" (OpenAI's
 * `audio_start_ms`/`audio_end_ms` clock). With turn detection on, the agent's turn detector (src/agent/vad.ts:
 * fvad ANDed with an energy gate, resampling rates fvad lacks) runs over the audio as it arrives, and audio older
 * than the prefix padding is dropped while nobody speaks. The errors it throws are the vendor's
 * ({@link InputAudioErrors}).
 *
 * Call `initVad()` (src/agent/vad.ts) once before turning detection on; {@link InputAudio.close} frees the
 * detector's wasm memory when the session ends.
 */
import { TurnDetector, type TurnEvent } from '../agent/vad.js';
import { type AudioFormat, FRAME_MS } from '../media/format.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from '../media/g711.js';
import { pcm16Bytes, pcm16View } from '../media/pcm.js';

/** Server-side turn detection, in the detector's terms (the vendors map their settings onto these). */
export interface TurnDetection {
  /** Voice that starts speech, ms (at least one 20 ms frame). */
  readonly startMs: number;
  /** Silence that ends speech, ms (at least one 20 ms frame: 0 ends it at the first unvoiced frame). */
  readonly endMs: number;
  /** How far above the tracked noise floor a frame must be to count as voice, dB ({@link thresholdToMarginDb}). */
  readonly marginDb: number;
  /** Audio kept before the detected start of speech, ms (the prefix padding). */
  readonly prefixMs: number;
}

/**
 * Maps a vendor's 0..1 activation threshold ("higher needs louder audio, better in noisy rooms") to the
 * detector's margin over the noise floor: 0 → 0 dB (fvad and the absolute -55 dBFS floor decide alone),
 * 0.5 → 9 dB (the detector's tuned default), 1 → 18 dB. A margin over the floor rather than an absolute level,
 * because the vendors' threshold is a classifier confidence: it makes background noise less likely to pass, not
 * clean speech at a normal level.
 */
export function thresholdToMarginDb(threshold: number): number {
  return 18 * Math.min(1, Math.max(0, threshold));
}

const NO_EVENTS: readonly TurnEvent[] = Object.freeze([]);

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
  #vad: TurnDetector | null = null;
  #detection: TurnDetection | null = null;
  /** Timeline ms where the detector's own timeline (ms of audio pushed to it) starts. */
  #vadOriginMs = 0;
  /** Events of the append in progress (the detector reports them synchronously). */
  #events: TurnEvent[] = [];
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
   * Turns turn detection on or off (`null`: manual commits). Any speech in progress is forgotten. The same
   * settings again keep the detector (and the noise floor it has learnt); new ones replace it.
   */
  setVad(detection: TurnDetection | null): void {
    const previous = this.#detection;
    this.#detection = detection;
    if (this.#vad !== null && detection !== null && previous !== null && sameDetection(detection, previous)) {
      this.#vad.reset();
      return;
    }
    this.#startDetector();
  }

  /** A new input format: the held audio is dropped, the timeline goes on (with a detector for the new rate). */
  setFormat(format: AudioFormat): void {
    if (format === this.#format) return;
    this.#baseMs = this.endMs;
    this.#format = format;
    this.#rate = format.sampleRate;
    this.#buf = new Int16Array(this.#rate);
    this.#len = 0;
    this.#start = 0;
    if (this.#vad !== null) this.#startDetector();
  }

  /** Frees the detector (the session ended). Audio may still be appended, without turn detection. */
  close(): void {
    this.#detection = null;
    this.#startDetector();
  }

  /**
   * Appends wire-format audio; returns the turn events it caused, in order, with times on the input timeline:
   * `speech_started.atMs` is the start of the first voiced frame, `speech_stopped.atMs` the end of the last one
   * and its `detectedAtMs` the end of the frame that completed the silence (last voice + `endMs`). Throws
   * (keeping nothing) past the limit.
   */
  append(wire: Uint8Array): readonly TurnEvent[] {
    const pcm = this.#decode(wire);
    if (((this.#len + pcm.length) * 1000) / this.#rate > this.#maxMs)
      throw this.#errors.bufferFull(this.#maxMs);
    this.#push(pcm);
    const vad = this.#vad;
    if (vad === null) return NO_EVENTS;
    vad.push(pcm);
    if (this.#events.length === 0) return NO_EVENTS;
    const events = this.#events;
    this.#events = [];
    return events;
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

  /** Replaces the detector (or drops it, with detection off): a fresh one at this rate, starting here. */
  #startDetector(): void {
    this.#vad?.destroy();
    this.#vad = null;
    this.#events = [];
    const d = this.#detection;
    if (d === null) {
      this.#keepMs = 0;
      return;
    }
    const startMs = Math.max(FRAME_MS, d.startMs);
    this.#vadOriginMs = this.endMs;
    this.#vad = new TurnDetector({
      sampleRate: this.#rate,
      startMs,
      endMs: Math.max(FRAME_MS, d.endMs),
      marginDb: d.marginDb,
      onEvent: (e) => {
        const origin = this.#vadOriginMs;
        this.#events.push({ type: e.type, atMs: origin + e.atMs, detectedAtMs: origin + e.detectedAtMs });
      },
    });
    // Speech is announced `startMs` (plus up to a frame) after it began: keep enough idle audio that the prefix
    // padding before it is still held then.
    this.#keepMs = d.prefixMs + startMs + FRAME_MS;
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

function sameDetection(a: TurnDetection, b: TurnDetection): boolean {
  return (
    a.startMs === b.startMs && a.endMs === b.endMs && a.marginDb === b.marginDb && a.prefixMs === b.prefixMs
  );
}
