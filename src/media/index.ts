/**
 * voxgate's media layer: pure audio over typed arrays. Nothing here imports the rest of voxgate.
 * Call {@link initMedia} once at startup, before creating converters or resamplers that change the rate.
 */
import { initResampler } from './resampler.js';

export type { Converter, ConverterOptions } from './convert.js';
export { createConverter } from './convert.js';
export type { AudioEncoding, AudioFormat, SampleRate } from './format.js';
export {
  ALAW_8K,
  audioFormat,
  bytesPerSample,
  bytesToMs,
  FRAME_MS,
  formatName,
  frameBytes,
  isSupportedRate,
  PCM16_8K,
  PCM16_16K,
  PCM16_24K,
  SAMPLE_RATES,
  samplesPerMs,
  silenceByte,
  ULAW_8K,
} from './format.js';
export { Framer } from './framer.js';
export {
  alawDecode,
  alawEncode,
  alawToLinear,
  linearToAlaw,
  linearToUlaw,
  ulawDecode,
  ulawEncode,
  ulawToLinear,
} from './g711.js';
export { rmsDbfs } from './level.js';
export { allocPcm16, dominantFrequency, pcm16Bytes, pcm16View, sine, toneLevelDb } from './pcm.js';
export type { PlayoutEvents, PlayoutOptions } from './playout.js';
export { PlayoutBuffer } from './playout.js';
export { DEFAULT_RESAMPLER_QUALITY, initResampler, Resampler, resamplerReady } from './resampler.js';
export type { ParsedWav } from './wav.js';
export { parseWav, wavFile } from './wav.js';

/** The media layer's one async initialisation (loads the wasm resampler). Idempotent. */
export async function initMedia(): Promise<void> {
  await initResampler();
}
