import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { ErrorCodes, ProtocolError, type VoxgateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AudioFormat } from '../media/format.js';
import { Framer } from '../media/framer.js';
import type { CallEndReason, CallerControl, CallTransport, CallTransportEvents } from './types.js';

/**
 * Vapi's WebSocket transport (shared/spec/call-transports.md §1.2–1.4), wire side only: binary frames in the
 * call's format ⇄ exact 20 ms frames, text frames ⇄ validated {@link CallerControl}. Bad input gets an error
 * message with a `code` back on the socket and the call goes on. What the call does with any of it is not this
 * file's business.
 */

/** Wire counters a server aggregates for /metrics; plain fields so the frame path pays an increment. */
export interface WireCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Outbound frames dropped because the peer did not read fast enough. */
  framesDropped: number;
  /** Inbound frames refused for being over `maxFrameBytes`. */
  framesRefused: number;
}

/** Receives how long one inbound frame took to go through the graph (synchronous links), in milliseconds. */
export interface DurationRecorder {
  observe(ms: number): void;
}

export interface VapiTransportOptions {
  /** Largest binary or text message accepted, in bytes; larger ones are refused with VG_ERR_FRAME_TOO_LARGE. */
  maxFrameBytes?: number;
  /** Outbound frames are dropped (and counted) while the socket holds more than this many unsent bytes. */
  maxBufferedBytes?: number;
  counters?: WireCounters;
  forwardTiming?: DurationRecorder;
  /** Observer of every JSON message sent to the caller (a server records transcripts from it). */
  onMessageSent?: (message: Record<string, unknown>) => void;
  /** Called once, while the socket may still be open, just before the wire ends: the last chance to send. */
  onClosing?: (reason: CallEndReason) => void;
  logger?: Logger;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;

/** Close codes by end reason: a server going away says 1001, our failures 1011, the rest are normal ends. */
function closeCodeFor(reason: CallEndReason): number {
  if (reason === 'server-shutdown') return 1001;
  if (reason === 'transport-error' || reason === 'provider-error') return 1011;
  return 1000;
}

const OPEN = 1;

export class VapiWebSocketTransport extends EventEmitter<CallTransportEvents> implements CallTransport {
  readonly kind = 'vapi.websocket';
  readonly format: AudioFormat;
  readonly counters: WireCounters;
  /** `performance.now()` of the caller's last message of any kind (for idle timeouts). */
  lastActivity = performance.now();
  readonly #ws: WebSocket;
  readonly #framer: Framer;
  readonly #maxFrameBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #options: VapiTransportOptions;
  #closed = false;
  #errored = false;

  constructor(ws: WebSocket, format: AudioFormat, options: VapiTransportOptions = {}) {
    super();
    this.format = format;
    this.#ws = ws;
    this.#framer = new Framer(format);
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.counters = options.counters ?? {
      framesIn: 0,
      framesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      framesDropped: 0,
      framesRefused: 0,
    };
    this.#options = options;
    ws.on('message', this.#onMessage);
    ws.on('close', this.#onClose);
    ws.on('error', this.#onError);
  }

  get closed(): boolean {
    return this.#closed;
  }

  sendAudio(frame: Uint8Array): void {
    const ws = this.#ws;
    if (this.#closed || ws.readyState !== OPEN) return;
    if (ws.bufferedAmount > this.#maxBufferedBytes) {
      this.counters.framesDropped++;
      return;
    }
    this.counters.framesOut++;
    this.counters.bytesOut += frame.length;
    // ws keeps `frame` until it is written: senders hand over frames they do not reuse (playout buffers and
    // framers emit fresh ones).
    ws.send(frame);
  }

  sendMessage(message: Record<string, unknown>): void {
    const ws = this.#ws;
    if (ws.readyState !== OPEN) return;
    ws.send(JSON.stringify(message));
    this.#options.onMessageSent?.(message);
  }

  close(reason: CallEndReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#finish(reason);
    const ws = this.#ws;
    if (ws.readyState === OPEN) ws.close(closeCodeFor(reason), reason);
    else if (ws.readyState === 0) ws.terminate();
  }

  /** Runs the closing hook, then reports `close`, once. */
  #finish(reason: CallEndReason): void {
    this.#framer.reset();
    try {
      this.#options.onClosing?.(reason);
    } finally {
      this.emit('close', reason);
    }
  }

  #onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.#closed) return;
    this.lastActivity = performance.now();
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (bytes.length > this.#maxFrameBytes) {
      this.counters.framesRefused++;
      this.#reject(
        new ProtocolError(
          ErrorCodes.FRAME_TOO_LARGE,
          `${isBinary ? 'binary' : 'text'} frame of ${bytes.length} bytes is over the limit of ${this.#maxFrameBytes}`,
          { closeCode: 1009, details: { bytes: bytes.length, limit: this.#maxFrameBytes } },
        ),
      );
      return;
    }
    if (isBinary) {
      this.counters.bytesIn += bytes.length;
      // ws hands each message over in a buffer of its own: a one-frame message is forwarded without a copy.
      this.#framer.push(bytes, this.#emitFrame, true);
      return;
    }
    let control: CallerControl;
    try {
      control = parseCallerControl(parseJsonText(bytes.toString('utf8')));
    } catch (err) {
      this.#reject(err as VoxgateError);
      return;
    }
    this.emit('control', control);
  };

  #emitFrame = (frame: Uint8Array): void => {
    this.counters.framesIn++;
    const timing = this.#options.forwardTiming;
    if (timing === undefined) {
      this.emit('audio', frame);
      return;
    }
    const t0 = performance.now();
    this.emit('audio', frame);
    timing.observe(performance.now() - t0);
  };

  /** Tells the caller what was wrong with its message; the call goes on. */
  #reject(error: VoxgateError): void {
    this.sendMessage({ type: 'error', ...error.toJSON() });
    this.#options.logger?.debug({ code: error.code }, 'caller message refused');
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #onError = (err: Error): void => {
    // ws reports protocol violations (a message over its hard maxPayload, bad UTF-8) here and then closes.
    this.#errored = true;
    this.#options.logger?.debug({ wsCode: (err as { code?: string }).code }, 'caller socket error');
  };

  #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#finish(this.#errored ? 'transport-error' : 'customer-ended-call');
  };
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(
      ErrorCodes.BAD_JSON,
      'text frame is not valid JSON; send binary frames for audio',
    );
  }
}

const nonEmpty = z.string().min(1);

const controlSchemas = {
  hangup: z.object({}),
  'end-call': z.object({}),
  say: z
    .object({
      content: nonEmpty.optional(),
      message: nonEmpty.optional(),
      endCallAfterSpoken: z.boolean().optional(),
      interruptionsEnabled: z.boolean().optional(),
      interruptAssistantEnabled: z.boolean().optional(),
    })
    .refine((m) => m.content !== undefined || m.message !== undefined, {
      message: 'say needs the text to speak in `content` (or `message`)',
      path: ['content'],
    }),
  'add-message': z.object({
    message: z.object({ role: z.enum(['system', 'user', 'assistant', 'tool']), content: z.string() }),
    triggerResponseEnabled: z.boolean().optional(),
  }),
  control: z.object({
    control: z.enum([
      'mute-assistant',
      'unmute-assistant',
      'mute-customer',
      'unmute-customer',
      'say-first-message',
    ]),
  }),
} as const;

type ControlType = keyof typeof controlSchemas;

/** Vapi messages voxgate recognises but does not carry out (yet). */
const UNSUPPORTED = new Set(['transfer', 'handoff', 'send-transport-message']);

/** The names of the control messages accepted, for error messages and docs. */
export const CONTROL_TYPES = Object.keys(controlSchemas) as ControlType[];

/**
 * Validates one Live Call Control message (`{type, ...}`, as on the media socket and `POST /call/:id/control`)
 * and maps it to a {@link CallerControl}: `hangup` becomes `end-call`, `say.message` becomes `content`.
 * Throws a {@link ProtocolError} with VG_ERR_BAD_MESSAGE (wrong shape) or VG_ERR_UNKNOWN_MESSAGE (unknown type).
 */
export function parseCallerControl(json: unknown): CallerControl {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError(ErrorCodes.BAD_MESSAGE, 'a control message must be a JSON object with a `type`');
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string') {
    throw new ProtocolError(ErrorCodes.BAD_MESSAGE, 'type: a control message needs a string `type`', {
      details: { field: 'type' },
    });
  }
  if (!Object.hasOwn(controlSchemas, type)) {
    const why = UNSUPPORTED.has(type) ? 'is not supported by voxgate' : 'is not a known control message';
    throw new ProtocolError(
      ErrorCodes.UNKNOWN_MESSAGE,
      `type '${type}' ${why}; use one of ${CONTROL_TYPES.join(', ')}`,
      {
        details: { type },
      },
    );
  }
  const result = controlSchemas[type as ControlType].safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'type';
    throw new ProtocolError(ErrorCodes.BAD_MESSAGE, `${type}: ${field}: ${issue.message}`, {
      details: { type, field },
    });
  }
  return toCallerControl(type as ControlType, result.data as Record<string, unknown>);
}

function toCallerControl(type: ControlType, m: Record<string, unknown>): CallerControl {
  switch (type) {
    case 'hangup':
    case 'end-call':
      return { type: 'end-call' };
    case 'say': {
      const say: CallerControl = { type: 'say', content: (m.content ?? m.message) as string };
      if (typeof m.endCallAfterSpoken === 'boolean') say.endCallAfterSpoken = m.endCallAfterSpoken;
      return say;
    }
    case 'add-message': {
      const add: CallerControl = {
        type: 'add-message',
        message: m.message as { role: string; content: string },
      };
      if (typeof m.triggerResponseEnabled === 'boolean')
        add.triggerResponseEnabled = m.triggerResponseEnabled;
      return add;
    }
    case 'control':
      return { type: 'control', control: m.control as string };
  }
}
