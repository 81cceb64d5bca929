/**
 * VoxEngine parameter types shared by several scenario objects, and their checks. Checks throw a UsageError at
 * the call that passed the bad value, with a message that says what was expected.
 */
import { ErrorCodes, UsageError } from '../errors.js';
import type { SendMediaOptions } from '../graph/unit.js';
import { MediaUnit } from '../graph/unit.js';
import type { WebSocketAudioEncoding } from './enums.js';
import { describeValue } from './listeners.js';

/**
 * Options of `sendMediaTo`. VoxEngine's typings make `tag` required, but its own examples omit it: here it is
 * optional, and absent means the untagged stream. `encoding` and `customParameters` matter only when the target
 * is a WebSocket (they go into its `start` message).
 */
export interface SendMediaParameters {
  tag?: string;
  customParameters?: Record<string, unknown>;
  /** A WebSocketAudioEncoding value; default PCM8. */
  encoding?: WebSocketAudioEncoding | (string & {});
}

/** `clearMediaBuffer` options: no tag clears every stream. */
export interface ClearMediaBufferParameters {
  tag?: string;
}

/** Session and call custom data hold at most this many UTF-8 bytes (VoxEngine's limit). */
export const MAX_CUSTOM_DATA_BYTES = 200;

/** Returns `value` if it is a string of at most 200 UTF-8 bytes; else throws (VG_ERR_CUSTOM_DATA_TOO_LONG). */
export function checkCustomData(value: unknown, where: string): string {
  if (typeof value !== 'string') {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `${where}: custom data must be a string, got ${describeValue(value)}`,
    );
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_CUSTOM_DATA_BYTES) {
    throw new UsageError(
      ErrorCodes.CUSTOM_DATA_TOO_LONG,
      `${where}: custom data is ${bytes} bytes; the limit is ${MAX_CUSTOM_DATA_BYTES} bytes (UTF-8)`,
      { details: { bytes, limit: MAX_CUSTOM_DATA_BYTES } },
    );
  }
  return value;
}

/** An optional tag: a string, or absent ('' counts as absent). */
export function checkTag(tag: unknown, where: string): string | undefined {
  if (tag === undefined || tag === null || tag === '') return undefined;
  if (typeof tag !== 'string') {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `${where}: tag must be a string, got ${describeValue(tag)}`,
    );
  }
  return tag;
}

/** VoxEngine's SendMediaParameters → the graph's link options (customParameters values become strings). */
export function toSendMediaOptions(parameters: unknown, where: string): SendMediaOptions {
  if (parameters === undefined || parameters === null) return {};
  if (typeof parameters !== 'object') {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `${where}: parameters must be an object, got ${describeValue(parameters)}`,
    );
  }
  const p = parameters as { tag?: unknown; encoding?: unknown; customParameters?: unknown };
  const options: SendMediaOptions = {};
  const tag = checkTag(p.tag, where);
  if (tag !== undefined) options.tag = tag;
  if (p.encoding !== undefined) {
    if (typeof p.encoding !== 'string') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        `${where}: encoding must be a WebSocketAudioEncoding value, e.g. 'PCM8'`,
      );
    }
    options.encoding = p.encoding;
  }
  if (p.customParameters !== undefined && p.customParameters !== null) {
    if (typeof p.customParameters !== 'object') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        `${where}: customParameters must be an object of strings`,
      );
    }
    const custom: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.customParameters))
      custom[k] = typeof v === 'string' ? v : JSON.stringify(v);
    options.customParameters = custom;
  }
  return options;
}

/** Throws VG_ERR_BAD_ARGUMENT unless `unit` is a media unit (a Call, a WebSocket, a connector client). */
export function checkUnit(unit: unknown, where: string): MediaUnit {
  if (!(unit instanceof MediaUnit)) {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `${where}: the first argument must be a media unit (a Call, a WebSocket, a connector client), got ${describeValue(unit)}`,
    );
  }
  return unit;
}
