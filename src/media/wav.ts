/**
 * Minimal WAV (RIFF) reading and writing for prompts, recordings and test fixtures. Off the hot path.
 *
 * Read: PCM 16-bit (format 1, or WAVE_FORMAT_EXTENSIBLE with a PCM subformat), μ-law (7) and A-law (6), at one of
 * SAMPLE_RATES. Multi-channel PCM16 is downmixed to mono by averaging the channels (so a stereo prompt just
 * works); multi-channel G.711 is refused, since averaging it means decoding and re-quantising (convert it with
 * `sox in.wav -c 1 out.wav`). Other sample sizes (8, 24, 32-bit, float) are refused with a sox hint.
 */
import type { AudioEncoding, AudioFormat } from './format.js';
import { audioFormat, bytesPerSample, isSupportedRate, SAMPLE_RATES } from './format.js';

export interface ParsedWav {
  format: AudioFormat;
  /** The samples. For mono files, a view into the input (no copy); for downmixed files, a new Buffer. */
  data: Uint8Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const FORMAT_TAGS = { pcm16: WAVE_FORMAT_PCM, ulaw: WAVE_FORMAT_MULAW, alaw: WAVE_FORMAT_ALAW } as const;

interface FmtChunk {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
}

function fourcc(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at]!, buf[at + 1]!, buf[at + 2]!, buf[at + 3]!);
}

function readFmt(view: DataView, at: number, size: number): FmtChunk {
  if (size < 16) throw new TypeError(`WAV: fmt chunk is ${size} bytes, expected at least 16`);
  let tag = view.getUint16(at, true);
  // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of its SubFormat GUID.
  if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 26) tag = view.getUint16(at + 24, true);
  return {
    tag,
    channels: view.getUint16(at + 2, true),
    sampleRate: view.getUint32(at + 4, true),
    bits: view.getUint16(at + 14, true),
  };
}

function encodingOf(fmt: FmtChunk): AudioEncoding {
  if (fmt.tag === WAVE_FORMAT_PCM && fmt.bits === 16) return 'pcm16';
  if (fmt.tag === WAVE_FORMAT_MULAW && fmt.bits === 8) return 'ulaw';
  if (fmt.tag === WAVE_FORMAT_ALAW && fmt.bits === 8) return 'alaw';
  throw new RangeError(
    `WAV: unsupported sample format (format tag ${fmt.tag}, ${fmt.bits} bits); ` +
      'supported: 16-bit PCM, 8-bit mu-law, 8-bit A-law (convert with `sox in.wav -b 16 out.wav`)',
  );
}

/** Averages interleaved PCM16 channels into a new mono buffer. */
function downmix(data: Uint8Array, channels: number): Buffer {
  const frames = Math.floor(data.length / (2 * channels));
  const out = Buffer.allocUnsafe(frames * 2);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = (f * channels + c) * 2;
      sum += ((data[at]! | (data[at + 1]! << 8)) << 16) >> 16;
    }
    out.writeInt16LE(Math.round(sum / channels), f * 2);
  }
  return out;
}

/** Reads a WAV file; throws TypeError for a malformed file, RangeError for an unsupported one. */
export function parseWav(buf: Uint8Array): ParsedWav {
  if (buf.length < 12 || fourcc(buf, 0) !== 'RIFF' || fourcc(buf, 8) !== 'WAVE') {
    throw new TypeError('WAV: not a RIFF/WAVE file');
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let fmt: FmtChunk | null = null;
  let at = 12;
  while (at + 8 <= buf.length) {
    const id = fourcc(buf, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      fmt = readFmt(view, body, Math.min(size, buf.length - body));
    } else if (id === 'data') {
      if (fmt === null) throw new TypeError('WAV: data chunk before fmt chunk');
      // Streamed or truncated WAVs claim more than is there (often 0xffffffff): take what is there.
      const end = Math.min(body + size, buf.length);
      return finish(fmt, buf.subarray(body, end));
    }
    at = body + size + (size & 1);
  }
  throw new TypeError(fmt === null ? 'WAV: no fmt chunk' : 'WAV: no data chunk');
}

function finish(fmt: FmtChunk, raw: Uint8Array): ParsedWav {
  const encoding = encodingOf(fmt);
  if (!isSupportedRate(fmt.sampleRate)) {
    throw new RangeError(
      `WAV: sample rate ${fmt.sampleRate} Hz is not supported; use one of ${SAMPLE_RATES.join(', ')}`,
    );
  }
  if (fmt.channels < 1) throw new TypeError('WAV: zero channels');
  const format = audioFormat(encoding, fmt.sampleRate);
  if (fmt.channels === 1) {
    const whole = raw.length - (raw.length % bytesPerSample(encoding));
    return { format, data: whole === raw.length ? raw : raw.subarray(0, whole) };
  }
  if (encoding !== 'pcm16') {
    throw new RangeError(`WAV: ${fmt.channels}-channel ${encoding} is not supported; convert to mono first`);
  }
  return { format, data: downmix(raw, fmt.channels) };
}

/** A mono WAV file: a 44-byte header, then `data` (plus one pad byte if its length is odd, as RIFF requires). */
export function wavFile(format: AudioFormat, data: Uint8Array): Buffer {
  if (format.encoding === 'opus') throw new RangeError('WAV: opus cannot be written as WAV');
  const bps = bytesPerSample(format.encoding);
  if (data.length % bps !== 0)
    throw new RangeError(`WAV: ${data.length} bytes is not whole ${format.encoding} samples`);
  const pad = data.length & 1;
  const out = Buffer.alloc(44 + data.length + pad);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + data.length + pad, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(FORMAT_TAGS[format.encoding], 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(format.sampleRate, 24);
  out.writeUInt32LE(format.sampleRate * bps, 28);
  out.writeUInt16LE(bps, 32);
  out.writeUInt16LE(bps * 8, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(data.length, 40);
  out.set(data, 44);
  return out;
}
