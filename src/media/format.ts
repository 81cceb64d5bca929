/**
 * Audio formats. Formats are interned: `audioFormat('pcm16', 16000)` always returns the same object, so the
 * hot path compares formats by identity.
 */
export type AudioEncoding = 'pcm16' | 'ulaw' | 'alaw' | 'opus';

export interface AudioFormat {
  /** `pcm16` is signed 16-bit little-endian; `ulaw`/`alaw` are G.711 (one byte a sample). */
  readonly encoding: AudioEncoding;
  readonly sampleRate: number;
  /** Mono only, for now. */
  readonly channels: 1;
}

/** The sample rates the resampler and transports accept. */
export const SAMPLE_RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export type SampleRate = (typeof SAMPLE_RATES)[number];

/** Frame duration used everywhere on the frame path. */
export const FRAME_MS = 20;

const interned = new Map<string, AudioFormat>();

export function isSupportedRate(rate: number): rate is SampleRate {
  return (SAMPLE_RATES as readonly number[]).includes(rate);
}

/** Returns the interned format; throws a RangeError for a rate outside {@link SAMPLE_RATES}. */
export function audioFormat(encoding: AudioEncoding, sampleRate: number): AudioFormat {
  const key = `${encoding}/${sampleRate}`;
  let format = interned.get(key);
  if (format === undefined) {
    if (!isSupportedRate(sampleRate) && !(encoding === 'opus' && sampleRate === 48000)) {
      throw new RangeError(`unsupported sample rate ${sampleRate}; use one of ${SAMPLE_RATES.join(', ')}`);
    }
    format = Object.freeze({ encoding, sampleRate, channels: 1 as const });
    interned.set(key, format);
  }
  return format;
}

export const PCM16_8K = audioFormat('pcm16', 8000);
export const PCM16_16K = audioFormat('pcm16', 16000);
export const PCM16_24K = audioFormat('pcm16', 24000);
export const ULAW_8K = audioFormat('ulaw', 8000);
export const ALAW_8K = audioFormat('alaw', 8000);

/** Bytes per sample for the linear and G.711 encodings; opus has no fixed size. */
export function bytesPerSample(encoding: AudioEncoding): number {
  if (encoding === 'pcm16') return 2;
  if (encoding === 'ulaw' || encoding === 'alaw') return 1;
  throw new RangeError('opus has no fixed bytes per sample');
}

/** Samples in `ms` of audio; may be fractional (11025 Hz gives 220.5 per 20 ms). */
export function samplesPerMs(format: AudioFormat, ms: number): number {
  return (format.sampleRate * ms) / 1000;
}

/** Bytes in one 20 ms frame, rounded down to whole samples. */
export function frameBytes(format: AudioFormat, ms: number = FRAME_MS): number {
  return Math.floor(samplesPerMs(format, ms)) * bytesPerSample(format.encoding);
}

/** Duration in ms of `bytes` of audio in `format`. */
export function bytesToMs(format: AudioFormat, bytes: number): number {
  return (bytes / bytesPerSample(format.encoding) / format.sampleRate) * 1000;
}

export function formatName(format: AudioFormat): string {
  return `${format.encoding}/${format.sampleRate}`;
}

/**
 * The byte that encodes silence, used to pad a partial last frame: 0 for PCM16 (both bytes), 0xff for μ-law
 * (decodes to 0), 0xd5 for A-law (decodes to +8; A-law has no code for exact zero).
 */
export function silenceByte(encoding: AudioEncoding): number {
  if (encoding === 'ulaw') return 0xff;
  if (encoding === 'alaw') return 0xd5;
  if (encoding === 'pcm16') return 0;
  throw new RangeError('opus has no silence byte');
}
