/**
 * The socket under a VoxEngine WebSocket: an outgoing `ws` client or an accepted server-side socket. It owns the
 * connection state, the queue of text sent while connecting, the size limit on what the peer sends, and the
 * mapping of socket errors to voxgate codes. It knows nothing of media or of scenario events: it reports to its
 * host, which does.
 */
import { WebSocket as WsSocket } from 'ws';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes, ProtocolError, UpstreamError, UsageError } from '../errors.js';
import type { ScenarioLimits } from './context.js';
import { WebSocketReadyState } from './enums.js';

/** What the connection reports to the VoxEngine WebSocket that owns it. */
export interface ConnectionHost {
  readonly limits: Readonly<ScenarioLimits>;
  opened(): void;
  /** A text frame from the peer. */
  text(text: string): void;
  /** Bad input from the peer (too large, binary) or a limit hit on our side; the connection goes on. */
  problem(error: VoxgateError): void;
  /** The socket failed (connect error, timeout, protocol error); `closed` follows. */
  failed(error: VoxgateError): void;
  closed(code: number, reason: string, wasClean: boolean): void;
}

export interface OutgoingTarget {
  url: string;
  protocols: string | string[];
  headers: Record<string, string>;
}

function socketError(err: Error & { code?: string }, connecting: boolean): VoxgateError {
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return new ProtocolError(
      ErrorCodes.FRAME_TOO_LARGE,
      'WebSocket peer sent a message over the size limit',
      {
        closeCode: 1009,
        cause: err,
      },
    );
  }
  if (connecting && /handshake has timed out/i.test(err.message)) {
    return new UpstreamError(ErrorCodes.CONNECT_TIMEOUT, 'WebSocket opening handshake timed out', {
      cause: err,
    });
  }
  const code = connecting ? ErrorCodes.CONNECT_FAILED : ErrorCodes.UPSTREAM_ERROR;
  const what = connecting ? 'connection failed' : 'error';
  return new UpstreamError(code, `WebSocket ${what}: ${err.message}`, { cause: err });
}

function rawSize(data: WsSocket.RawData): number {
  if (!Array.isArray(data)) return data.byteLength;
  let n = 0;
  for (const b of data) n += b.length;
  return n;
}

function rawText(data: WsSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** `[{name, value}]` (VoxEngine's header list) → a header object; throws a UsageError for a bad list. */
export function headerObject(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  if (!Array.isArray(headers)) {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      'WebSocket parameters.headers must be an array of {name, value}',
    );
  }
  for (const h of headers as { name?: unknown; value?: unknown }[]) {
    if (typeof h?.name !== 'string' || h.name === '') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        'WebSocket parameters.headers: each entry needs a string name',
      );
    }
    out[h.name] = String(h.value ?? '');
  }
  return out;
}

export class WireConnection {
  readonly #host: ConnectionHost;
  readonly #socket: WsSocket;
  readonly #queue: string[] = [];
  #state: WebSocketReadyState;
  #opened: boolean;
  #closeRequested = false;
  /** ws reports 1006 when it aborts on an oversized frame; the host is told the 1009 that was sent. */
  #closeCode: number | null = null;

  /** Dials `target` (an outgoing connection) or adopts an accepted, open server-side socket. */
  constructor(host: ConnectionHost, target: OutgoingTarget | WsSocket) {
    this.#host = host;
    if (target instanceof WsSocket) {
      this.#socket = target;
      this.#state = WebSocketReadyState.OPEN;
      this.#opened = true;
    } else {
      const limits = host.limits;
      try {
        this.#socket = new WsSocket(target.url, target.protocols, {
          headers: target.headers,
          handshakeTimeout: limits.connectTimeoutMs,
          maxPayload: limits.maxMessageBytes,
          perMessageDeflate: false,
        });
      } catch (err) {
        throw new UsageError(ErrorCodes.BAD_ARGUMENT, `new WebSocket(url): ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.#state = WebSocketReadyState.CONNECTING;
      this.#opened = false;
      this.#socket.once('open', this.#onOpen);
    }
    this.#socket.on('message', this.#onMessage);
    this.#socket.on('error', this.#onError);
    this.#socket.once('close', this.#onClose);
  }

  get state(): WebSocketReadyState {
    return this.#state;
  }

  /** Sends now when open; queues while connecting (up to `maxQueuedMessages`, then VG_ERR_QUEUE_FULL); drops once closing. */
  write(text: string): void {
    if (this.#state === WebSocketReadyState.OPEN) {
      this.#socket.send(text);
      return;
    }
    if (this.#state !== WebSocketReadyState.CONNECTING) return;
    const max = this.#host.limits.maxQueuedMessages;
    if (this.#queue.length < max) {
      this.#queue.push(text);
      return;
    }
    this.#host.problem(
      new UpstreamError(ErrorCodes.QUEUE_FULL, 'WebSocket outbound queue is full; messages dropped', {
        details: { maxQueuedMessages: max },
      }),
    );
  }

  /** Closes the connection (1000) or aborts the attempt. Idempotent. */
  close(code = 1000): void {
    if (this.#state === WebSocketReadyState.CLOSING || this.#state === WebSocketReadyState.CLOSED) return;
    this.#closeRequested = true;
    this.#queue.length = 0;
    if (this.#state === WebSocketReadyState.CONNECTING) this.#socket.terminate();
    else this.#socket.close(code);
    this.#state = WebSocketReadyState.CLOSING;
  }

  readonly #onOpen = (): void => {
    if (this.#state !== WebSocketReadyState.CONNECTING) return;
    this.#state = WebSocketReadyState.OPEN;
    this.#opened = true;
    for (const text of this.#queue) this.#socket.send(text);
    this.#queue.length = 0;
    this.#host.opened();
  };

  readonly #onMessage = (data: WsSocket.RawData, isBinary: boolean): void => {
    // Accepted sockets come with the server's maxPayload, so the limit is checked here too.
    if (rawSize(data) > this.#host.limits.maxMessageBytes) {
      this.#host.problem(
        new ProtocolError(ErrorCodes.FRAME_TOO_LARGE, 'WebSocket peer sent a message over the size limit', {
          closeCode: 1009,
        }),
      );
      this.#closeCode = 1009;
      this.close(1009);
      return;
    }
    if (isBinary) {
      this.#host.problem(
        new ProtocolError(
          ErrorCodes.BAD_MESSAGE,
          'binary frames are not part of the VoxEngine WebSocket protocol',
        ),
      );
      return;
    }
    this.#host.text(rawText(data));
  };

  readonly #onError = (err: Error): void => {
    // close() during the handshake aborts it with an error: that one is ours, not the peer's.
    if (this.#closeRequested && !this.#opened) return;
    const error = socketError(err, !this.#opened);
    if (error.closeCode !== undefined) this.#closeCode = error.closeCode;
    this.#host.failed(error);
  };

  readonly #onClose = (code: number, reason: Buffer): void => {
    this.#state = WebSocketReadyState.CLOSED;
    this.#queue.length = 0;
    const reported = code === 1006 && this.#closeCode !== null ? this.#closeCode : code;
    this.#host.closed(reported, reason.toString(), code !== 1006);
  };
}
