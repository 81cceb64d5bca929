/**
 * The VoxEngine media wire codec ("Voximplant.WebSocketFormat"): JSON text frames `start` → N×`media` → `stop`,
 * the same in both directions (spec/voxengine.md §7). Parsing uses direct checks, not a schema library, because
 * `media` frames arrive 50 times a second per stream.
 *
 * Numeric fields are accepted as JSON numbers or decimal strings (proto3 JSON writes 64-bit integers as strings)
 * and always emitted as numbers. PCM16 is little-endian. Tags: absent, null and '' all mean the untagged stream.
 */
import { ErrorCodes, ProtocolError } from '../errors.js';
import type { AudioFormat } from '../media/format.js';
import { ALAW_8K, PCM16_8K, PCM16_16K, ULAW_8K } from '../media/format.js';

/** The wire `encoding` strings (VoxEngine's `WebSocketAudioEncoding` values). */
export type WireEncoding = 'PCM8' | 'PCM16' | 'ULAW' | 'ALAW' | 'OPUS';

/** Default when a scenario gives no encoding: PCM8, i.e. PCM16 at 8 kHz (the typings' default). */
export const DEFAULT_WIRE_ENCODING: WireEncoding = 'PCM8';

const RATE: Record<WireEncoding, number> = { PCM8: 8000, PCM16: 16000, ULAW: 8000, ALAW: 8000, OPUS: 48000 };

const FORMAT: Record<Exclude<WireEncoding, 'OPUS'>, AudioFormat> = {
  PCM8: PCM16_8K,
  PCM16: PCM16_16K,
  ULAW: ULAW_8K,
  ALAW: ALAW_8K,
};

/** Spellings seen in the field (enum values, member names, MIME types from the guides), lower-cased. */
const ALIASES: Record<string, WireEncoding | 'L16'> = {
  pcm8: 'PCM8',
  pcm16_8khz: 'PCM8',
  pcm16: 'PCM16',
  pcm16_16khz: 'PCM16',
  ulaw: 'ULAW',
  mulaw: 'ULAW',
  pcmu: 'ULAW',
  'audio/x-mulaw': 'ULAW',
  'audio/pcmu': 'ULAW',
  'audio/basic': 'ULAW',
  alaw: 'ALAW',
  pcma: 'ALAW',
  'audio/x-alaw': 'ALAW',
  'audio/pcma': 'ALAW',
  opus: 'OPUS',
  'audio/opus': 'OPUS',
  'audio/ogg': 'OPUS',
  l16: 'L16',
  linear16: 'L16',
  'audio/l16': 'L16',
};

/** The canonical wire encoding for a spelling, or undefined when unknown. L16 needs a rate to pick PCM8/PCM16. */
export function resolveWireEncoding(value: string, sampleRate?: number): WireEncoding | undefined {
  const alias = ALIASES[value.toLowerCase()];
  if (alias !== 'L16') return alias;
  if (sampleRate === 8000) return 'PCM8';
  if (sampleRate === 16000) return 'PCM16';
  return undefined;
}

/** The audio format of a wire encoding. Throws VG_ERR_UNSUPPORTED_ENCODING for OPUS (no Opus codec in voxgate). */
export function wireEncodingFormat(encoding: WireEncoding): AudioFormat {
  if (encoding === 'OPUS') {
    throw new ProtocolError(
      ErrorCodes.UNSUPPORTED_ENCODING,
      'OPUS is not supported by voxgate; use PCM8, PCM16, ULAW or ALAW',
      { details: { encoding } },
    );
  }
  return FORMAT[encoding];
}

export interface VoxMediaStart {
  tag: string | undefined;
  encoding: WireEncoding;
  format: AudioFormat;
  customParameters: Record<string, string> | undefined;
}

export interface VoxMediaChunk {
  tag: string | undefined;
  chunk: number | undefined;
  timestamp: number | undefined;
  payload: Buffer;
}

export interface VoxMediaStop {
  tag: string | undefined;
  bytesSent: number | undefined;
  duration: number | undefined;
}

/**
 * What a text frame turned out to be. `text`: not a media event (not JSON, or JSON without `event`): deliver it to
 * the scenario as a message. `invalid` with `asText`: not a media event we know (bad JSON, unknown event): log it
 * and still deliver the text. `invalid` without `asText`: a malformed media event: log it and drop it.
 */
export type VoxInbound =
  | { type: 'start'; start: VoxMediaStart }
  | { type: 'media'; media: VoxMediaChunk }
  | { type: 'stop'; stop: VoxMediaStop }
  | { type: 'ignored' }
  | { type: 'text' }
  | { type: 'invalid'; error: ProtocolError; asText: boolean };

type Json = Record<string, unknown>;

const IGNORED: VoxInbound = { type: 'ignored' };
const TEXT: VoxInbound = { type: 'text' };
const NUMERIC = /^-?\d+(?:\.\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Thrown inside the parser only; turned into an `invalid` result. */
class Invalid extends Error {
  constructor(readonly error: ProtocolError) {
    super(error.message);
  }
}

function bad(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string, field?: string): never {
  throw new Invalid(new ProtocolError(code, message, field === undefined ? {} : { details: { field } }));
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(obj: Json, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return bad(
    ErrorCodes.BAD_MESSAGE,
    `${where}.${key} must be a number or a numeric string`,
    `${where}.${key}`,
  );
}

function tagOf(obj: Json, where: string): string | undefined {
  const v = obj.tag;
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string')
    return bad(ErrorCodes.BAD_MESSAGE, `${where}.tag must be a string`, `${where}.tag`);
  return v;
}

function body(msg: Json, event: string): Json {
  const b = msg[event];
  if (!isObject(b)) return bad(ErrorCodes.BAD_MESSAGE, `a '${event}' event needs a '${event}' object`, event);
  return b;
}

/** Parses one text frame from the peer. Never throws. */
export function parseVoxMediaMessage(text: string): VoxInbound {
  const first = text.charCodeAt(firstNonSpace(text));
  if (first !== 0x7b /* { */) return TEXT;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return invalid(
      new ProtocolError(ErrorCodes.BAD_JSON, 'text frame starts like JSON but does not parse'),
      true,
    );
  }
  if (!isObject(msg) || msg.event === undefined) return TEXT;
  const event = msg.event;
  try {
    if (event === 'media') return { type: 'media', media: parseMedia(body(msg, 'media')) };
    if (event === 'start') return { type: 'start', start: parseStart(body(msg, 'start')) };
    if (event === 'stop') return { type: 'stop', stop: parseStop(body(msg, 'stop')) };
  } catch (err) {
    if (err instanceof Invalid) return invalid(err.error, false);
    throw err;
  }
  if (event === 'init') return IGNORED;
  if (typeof event !== 'string') {
    return invalid(
      new ProtocolError(ErrorCodes.BAD_MESSAGE, 'event must be a string', { details: { field: 'event' } }),
      true,
    );
  }
  return invalid(
    new ProtocolError(ErrorCodes.UNKNOWN_MESSAGE, 'unknown media event', {
      details: { event: event.slice(0, 40) },
    }),
    true,
  );
}

function invalid(error: ProtocolError, asText: boolean): VoxInbound {
  return { type: 'invalid', error, asText };
}

function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  return i;
}

function parseMedia(media: Json): VoxMediaChunk {
  const tag = tagOf(media, 'media');
  const chunk = num(media, 'chunk', 'media');
  const timestamp = num(media, 'timestamp', 'media');
  const payload = media.payload;
  if (typeof payload !== 'string')
    return bad(ErrorCodes.BAD_MESSAGE, 'media.payload must be a base64 string', 'media.payload');
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) {
    return bad(ErrorCodes.BAD_BASE64, 'media.payload is not valid base64', 'media.payload');
  }
  return { tag, chunk, timestamp, payload: Buffer.from(payload, 'base64') };
}

function parseStart(start: Json): VoxMediaStart {
  const tag = tagOf(start, 'start');
  const mf = start.mediaFormat;
  if (!isObject(mf))
    return bad(ErrorCodes.BAD_MESSAGE, 'start.mediaFormat must be an object', 'start.mediaFormat');
  if (typeof mf.encoding !== 'string') {
    return bad(
      ErrorCodes.BAD_MESSAGE,
      'start.mediaFormat.encoding must be a string',
      'start.mediaFormat.encoding',
    );
  }
  const rate = num(mf, 'sampleRate', 'start.mediaFormat');
  const channels = num(mf, 'channels', 'start.mediaFormat');
  const encoding = resolveWireEncoding(mf.encoding, rate);
  if (encoding === undefined) {
    throw new Invalid(
      new ProtocolError(ErrorCodes.UNSUPPORTED_ENCODING, 'unknown encoding in start.mediaFormat', {
        details: { encoding: mf.encoding.slice(0, 40) },
      }),
    );
  }
  if (channels !== undefined && channels !== 1) {
    return bad(
      ErrorCodes.BAD_MEDIA_FORMAT,
      'only mono audio is supported (start.mediaFormat.channels = 1)',
      'channels',
    );
  }
  let format: AudioFormat;
  try {
    format = wireEncodingFormat(encoding);
  } catch (err) {
    throw new Invalid(err as ProtocolError);
  }
  const expected = RATE[encoding];
  if (rate !== undefined && rate !== expected) {
    throw new Invalid(
      new ProtocolError(ErrorCodes.BAD_MEDIA_FORMAT, 'encoding and sampleRate disagree', {
        details: { encoding, sampleRate: rate, expectedSampleRate: expected },
      }),
    );
  }
  return { tag, encoding, format, customParameters: customParametersOf(start.customParameters) };
}

/** An object of strings; a JSON string holding one is accepted too (some guides show it that way). */
function customParametersOf(value: unknown): Record<string, string> | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

function parseStop(stop: Json): VoxMediaStop {
  const tag = tagOf(stop, 'stop');
  const info = stop.mediaInfo;
  if (info === undefined || info === null) return { tag, bytesSent: undefined, duration: undefined };
  if (!isObject(info))
    return bad(ErrorCodes.BAD_MESSAGE, 'stop.mediaInfo must be an object', 'stop.mediaInfo');
  return {
    tag,
    bytesSent: num(info, 'bytesSent', 'stop.mediaInfo'),
    duration: num(info, 'duration', 'stop.mediaInfo'),
  };
}

function tagField(tag: string | undefined): string {
  return tag === undefined ? '' : `"tag":${JSON.stringify(tag)},`;
}

/** The `start` frame: `mediaFormat` from the encoding, `customParameters` as an object when given. */
export function encodeStart(
  sequenceNumber: number,
  tag: string | undefined,
  encoding: WireEncoding,
  customParameters?: Record<string, string>,
): string {
  const custom =
    customParameters === undefined ? '' : `,"customParameters":${JSON.stringify(customParameters)}`;
  const mediaFormat = `{"encoding":"${encoding}","sampleRate":${RATE[encoding]},"channels":1}`;
  const tagPart = tag === undefined ? '' : `,"tag":${JSON.stringify(tag)}`;
  return `{"event":"start","sequenceNumber":${sequenceNumber},"start":{"mediaFormat":${mediaFormat}${tagPart}${custom}}}`;
}

/** One `media` frame; `payload` is base64-encoded without a copy. */
export function encodeMedia(
  sequenceNumber: number,
  tag: string | undefined,
  chunk: number,
  timestamp: number,
  payload: Uint8Array,
): string {
  const b64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
  return `{"event":"media","sequenceNumber":${sequenceNumber},"media":{${tagField(tag)}"chunk":${chunk},"timestamp":${timestamp},"payload":"${b64}"}}`;
}

/** The `stop` frame; `duration` is in milliseconds. */
export function encodeStop(
  sequenceNumber: number,
  tag: string | undefined,
  bytesSent: number,
  duration: number,
): string {
  return `{"event":"stop","sequenceNumber":${sequenceNumber},"stop":{${tagField(tag)}"mediaInfo":{"bytesSent":${bytesSent},"duration":${duration}}}}`;
}
