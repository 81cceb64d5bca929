/**
 * Every voxgate error code, in one place. A code is never reused for a new meaning: retire it instead.
 * The docs page `docs/errors.md` lists the same codes with what to do about each.
 *
 * This file is a leaf: every layer may import it, and it imports nothing.
 */
export const ErrorCodes = {
  // Caller input: the peer sent something malformed or out of bounds.
  BAD_JSON: 'VG_ERR_BAD_JSON',
  BAD_MESSAGE: 'VG_ERR_BAD_MESSAGE',
  UNKNOWN_MESSAGE: 'VG_ERR_UNKNOWN_MESSAGE',
  BAD_BASE64: 'VG_ERR_BAD_BASE64',
  MEDIA_BEFORE_START: 'VG_ERR_MEDIA_BEFORE_START',
  BAD_MEDIA_FORMAT: 'VG_ERR_BAD_MEDIA_FORMAT',
  UNSUPPORTED_ENCODING: 'VG_ERR_UNSUPPORTED_ENCODING',
  FRAME_TOO_LARGE: 'VG_ERR_FRAME_TOO_LARGE',
  BAD_REQUEST: 'VG_ERR_BAD_REQUEST',
  UNAUTHORIZED: 'VG_ERR_UNAUTHORIZED',
  NOT_FOUND: 'VG_ERR_NOT_FOUND',
  BAD_TOKEN: 'VG_ERR_BAD_TOKEN',
  TOKEN_USED: 'VG_ERR_TOKEN_USED',
  TOKEN_EXPIRED: 'VG_ERR_TOKEN_EXPIRED',
  TOO_MANY_CALLS: 'VG_ERR_TOO_MANY_CALLS',
  /** A session already has the most incoming WebSockets it accepts (VoxEngine: calls + 3). */
  TOO_MANY_WEBSOCKETS: 'VG_ERR_TOO_MANY_WEBSOCKETS',
  CALL_ENDED: 'VG_ERR_CALL_ENDED',
  /** The peer sent more audio than the playout buffer holds; the excess was dropped and counted. */
  AUDIO_BUFFER_FULL: 'VG_ERR_AUDIO_BUFFER_FULL',
  BODY_TOO_LARGE: 'VG_ERR_BODY_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'VG_ERR_METHOD_NOT_ALLOWED',
  // Scenario author: the scenario used the API wrongly.
  BAD_HANDLER: 'VG_ERR_BAD_HANDLER',
  BAD_ARGUMENT: 'VG_ERR_BAD_ARGUMENT',
  CUSTOM_DATA_TOO_LONG: 'VG_ERR_CUSTOM_DATA_TOO_LONG',
  HANDLER_THREW: 'VG_ERR_HANDLER_THREW',
  INVALID_STATE: 'VG_ERR_INVALID_STATE',
  SCENARIO_LOAD: 'VG_ERR_SCENARIO_LOAD',
  // Provider: the far end (AI provider or WebSocket peer) failed.
  CONNECT_FAILED: 'VG_ERR_CONNECT_FAILED',
  CONNECT_TIMEOUT: 'VG_ERR_CONNECT_TIMEOUT',
  /** `close()` was called while a connection was still being set up. */
  CONNECT_ABORTED: 'VG_ERR_CONNECT_ABORTED',
  UPSTREAM_CLOSED: 'VG_ERR_UPSTREAM_CLOSED',
  UPSTREAM_HTTP: 'VG_ERR_UPSTREAM_HTTP',
  UPSTREAM_ERROR: 'VG_ERR_UPSTREAM_ERROR',
  UPSTREAM_PROTOCOL: 'VG_ERR_UPSTREAM_PROTOCOL',
  /** The provider stopped answering keepalive pings; the connection was closed. */
  KEEPALIVE_TIMEOUT: 'VG_ERR_KEEPALIVE_TIMEOUT',
  /** Outbound messages piled up past the limit (the far end is not reading, or not yet connected). */
  QUEUE_FULL: 'VG_ERR_QUEUE_FULL',
  // Operator: configuration.
  CONFIG: 'VG_ERR_CONFIG',
  // Ours.
  INTERNAL: 'VG_ERR_INTERNAL',
  NOT_INITIALIZED: 'VG_ERR_NOT_INITIALIZED',
  SHUTTING_DOWN: 'VG_ERR_SHUTTING_DOWN',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface VoxgateErrorOptions {
  cause?: unknown;
  /** HTTP status to answer with, when the error ends an HTTP request. */
  status?: number;
  /** WebSocket close code to send, when the error ends a socket. */
  closeCode?: number;
  /** Whether trying the same thing again may succeed. */
  retryable?: boolean;
  /** Structured, non-sensitive details (field names, limits). Never secrets or transcripts. */
  details?: Record<string, unknown>;
}

/** The base of every error voxgate throws or emits. `code` is stable; `message` says how to fix it. */
export class VoxgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly closeCode: number | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.closeCode = options.closeCode;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** The peer (caller, WebSocket third party, HTTP client) sent bad input. Defaults: HTTP 400, close 1008. */
export class ProtocolError extends VoxgateError {
  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions = {}) {
    super(code, message, { status: 400, closeCode: 1008, ...options });
  }
}

/** The scenario author used the API wrongly. */
export class UsageError extends VoxgateError {}

/** The AI provider or far end failed. 408/429/5xx are retryable; other 4xx are not. */
export class UpstreamError extends VoxgateError {
  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions = {}) {
    const s = options.status;
    const retryable = options.retryable ?? (s === undefined || s === 408 || s === 429 || s >= 500);
    super(code, message, { ...options, retryable });
  }
}

/** The operator's configuration is wrong; thrown at start with a message that says how to fix it. */
export class ConfigError extends VoxgateError {
  constructor(message: string, options: VoxgateErrorOptions = {}) {
    super(ErrorCodes.CONFIG, message, options);
  }
}

/** Wraps anything thrown into a VoxgateError, keeping the original as `cause`. */
export function toVoxgateError(err: unknown, code: ErrorCode = ErrorCodes.INTERNAL): VoxgateError {
  if (err instanceof VoxgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new VoxgateError(code, message, { cause: err });
}
