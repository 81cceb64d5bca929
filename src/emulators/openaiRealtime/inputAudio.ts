/**
 * The Realtime input audio buffer: the shared emulator input buffer (../inputAudio.ts) with the service's own
 * errors for a full buffer and for odd-length PCM.
 */
import type { AudioFormat } from '../../media/format.js';
import { InputAudio as SharedInputAudio } from '../inputAudio.js';
import { ClientEventError, OpenAIErrorCodes } from './protocol.js';

const REALTIME_ERRORS = {
  bufferFull: (maxMs: number) =>
    new ClientEventError(
      OpenAIErrorCodes.bufferFull,
      `The input audio buffer holds at most ${maxMs} ms; commit or clear it first.`,
      'audio',
    ),
  oddBytes: () =>
    new ClientEventError(
      OpenAIErrorCodes.invalidValue,
      'audio/pcm input must be whole 16-bit samples (an even number of bytes).',
      'audio',
    ),
};

export class InputAudio extends SharedInputAudio {
  constructor(format: AudioFormat, maxMs: number) {
    super(format, maxMs, REALTIME_ERRORS);
  }
}
