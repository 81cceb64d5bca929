/**
 * The socket lifecycle shared by every connector: one connection attempt with a timeout, a state union that holds
 * the socket (every callback checks it is still the current one), coded connect failures, a close that is safe to
 * call twice, and per-connection counters. Reconnecting means a new ConnectorSocket.
 */
import { WebSocket } from 'ws';
import { ErrorCodes, UpstreamError, UsageError, VoxgateError } from '../errors.js';
import type { ConnectorStats } from './types.js';

export interface SocketCloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  /** True when our side closed it (`close()`), false when the far end or the network did. */
  byUs: boolean;
  /** The coded reason when it was not us: VG_ERR_UPSTREAM_CLOSED, or the connect failure. */
  error: VoxgateError | null;
}

/** The socket lives inside the state, so every callback can check it is still talking to the current one. */
export type SocketState =
  | { status: 'idle' }
  | { status: 'connecting'; ws: WebSocket | null }
  | { status: 'open'; ws: WebSocket }
  | { status: 'closed'; info: SocketCloseInfo };

export interface SocketOpenOptions {
  url: string;
  /** Sent on the upgrade request (e.g. `Authorization`). Never logged. */
  headers?: Record<string, string>;
  /** Time allowed for the whole opening handshake; default 10 s (VG_ERR_CONNECT_TIMEOUT). */
  connectTimeoutMs?: number;
  /** Builds the socket instead of `new WebSocket(url, {headers})`; an already-open socket is used as is. */
  createWebSocket?: () => Promise<WebSocket>;
}

export interface SocketHandlers {
  /** The socket just opened (before open() resolves and before any message is delivered). */
  open?(): void;
  message(data: Buffer, isBinary: boolean): void;
  /** Once, after open, whoever closed it. Not called when the connection never opened (open() rejects instead). */
  close(info: SocketCloseInfo): void;
}

export function newConnectorStats(): ConnectorStats {
  return {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    protocolErrors: 0,
    providerErrors: 0,
    framesSent: 0,
    framesCleared: 0,
    connectMs: -1,
  };
}

interface PendingOpen {
  resolve: () => void;
  reject: (error: VoxgateError) => void;
  timer: NodeJS.Timeout;
  failure: VoxgateError | null;
}

/** One connection attempt and its life: open once, close once. Reconnecting means a new ConnectorSocket. */
export class ConnectorSocket {
  readonly stats: ConnectorStats;
  readonly #handlers: SocketHandlers;
  #state: SocketState = { status: 'idle' };
  #pending: PendingOpen | null = null;
  #lastError: Error | null = null;
  #startedAt = 0;

  constructor(handlers: SocketHandlers, stats: ConnectorStats = newConnectorStats()) {
    this.#handlers = handlers;
    this.stats = stats;
  }

  get state(): SocketState {
    return this.#state;
  }

  /** Resolves when open; rejects with VG_ERR_CONNECT_FAILED, _TIMEOUT, _ABORTED or VG_ERR_UPSTREAM_HTTP. */
  open(options: SocketOpenOptions): Promise<void> {
    if (this.#state.status !== 'idle') {
      return Promise.reject(
        new UsageError(ErrorCodes.INVALID_STATE, 'this connector socket was already opened'),
      );
    }
    this.#state = { status: 'connecting', ws: null };
    this.#startedAt = performance.now();
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const message = `no connection to the provider after ${timeoutMs} ms`;
        this.#fail(new UpstreamError(ErrorCodes.CONNECT_TIMEOUT, message, { details: { timeoutMs } }), false);
      }, timeoutMs);
      this.#pending = { resolve, reject, timer, failure: null };
      createSocket(options).then(
        (ws) => this.#adopt(ws),
        (err: unknown) => this.#fail(connectFailed(err), false),
      );
    });
  }

  /** Sends a text frame (a string, or its UTF-8 bytes); false (nothing sent) unless open. */
  send(text: string | Buffer): boolean {
    if (this.#state.status !== 'open') return false;
    this.#state.ws.send(text, { binary: false });
    this.stats.messagesOut++;
    this.stats.bytesOut += text.length;
    return true;
  }

  /** Sends a binary frame (e.g. raw PCM); false (nothing sent) unless open. */
  sendBinary(data: Uint8Array): boolean {
    if (this.#state.status !== 'open') return false;
    this.#state.ws.send(data, { binary: true });
    this.stats.bytesOut += data.length;
    return true;
  }

  /** Idempotent. While connecting, open() rejects with VG_ERR_CONNECT_ABORTED; when open, `close` fires now. */
  close(code = 1000, reason = ''): void {
    const state = this.#state;
    if (state.status === 'idle') {
      this.#state = { status: 'closed', info: { code, reason, wasClean: true, byUs: true, error: null } };
    } else if (state.status === 'connecting') {
      const error = new VoxgateError(
        ErrorCodes.CONNECT_ABORTED,
        'the connection was closed before it was ready',
      );
      this.#fail(error, true);
    } else if (state.status === 'open') {
      const info: SocketCloseInfo = { code, reason, wasClean: true, byUs: true, error: null };
      this.#state = { status: 'closed', info };
      closeQuietly(state.ws, code, reason);
      this.#handlers.close(info);
    }
  }

  #adopt(ws: WebSocket): void {
    if (this.#state.status !== 'connecting' || this.#state.ws !== null) {
      ws.on('error', () => {});
      ws.terminate();
      return;
    }
    this.#state = { status: 'connecting', ws };
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (this.#pending !== null && this.#isCurrent(ws)) {
        const message = `the provider refused the connection with HTTP ${status}`;
        this.#pending.failure = new UpstreamError(ErrorCodes.UPSTREAM_HTTP, message, {
          status,
          details: { status },
        });
      }
      ws.terminate();
    });
    ws.on('open', () => this.#onOpen(ws));
    ws.on('error', (err) => {
      if (!this.#isCurrent(ws)) return;
      this.#lastError = err;
      if (this.#pending !== null) this.#pending.failure ??= connectFailed(err);
    });
    ws.on('message', (data, isBinary) => {
      if (this.#state.status !== 'open' || this.#state.ws !== ws) return;
      const buffer = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      this.stats.messagesIn++;
      this.stats.bytesIn += buffer.length;
      this.#handlers.message(buffer, isBinary);
    });
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
    if (ws.readyState === WebSocket.OPEN) this.#onOpen(ws);
  }

  #isCurrent(ws: WebSocket): boolean {
    const state = this.#state;
    return (state.status === 'connecting' || state.status === 'open') && state.ws === ws;
  }

  #onOpen(ws: WebSocket): void {
    const pending = this.#pending;
    if (this.#state.status !== 'connecting' || this.#state.ws !== ws || pending === null) return;
    clearTimeout(pending.timer);
    this.#pending = null;
    this.#state = { status: 'open', ws };
    this.stats.connectMs = Math.round(performance.now() - this.#startedAt);
    try {
      this.#handlers.open?.();
    } finally {
      pending.resolve();
    }
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (!this.#isCurrent(ws)) return;
    if (this.#state.status === 'connecting') {
      const failure =
        this.#pending?.failure ?? connectFailed(new Error(`closed before opening (code ${code})`));
      this.#fail(failure, false);
      return;
    }
    const detail = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
    const error = new UpstreamError(
      ErrorCodes.UPSTREAM_CLOSED,
      `the provider closed the connection (${detail})`,
      {
        closeCode: code,
        cause: this.#lastError ?? undefined,
        details: { code, reason },
      },
    );
    const info: SocketCloseInfo = { code, reason, wasClean: code === 1000, byUs: false, error };
    this.#state = { status: 'closed', info };
    this.#handlers.close(info);
  }

  #fail(error: VoxgateError, byUs: boolean): void {
    const state = this.#state;
    const pending = this.#pending;
    if (state.status !== 'connecting' || pending === null) return;
    clearTimeout(pending.timer);
    this.#pending = null;
    this.#state = {
      status: 'closed',
      info: { code: 1006, reason: error.message, wasClean: false, byUs, error },
    };
    if (state.ws !== null) state.ws.terminate();
    pending.reject(error);
  }
}

async function createSocket(options: SocketOpenOptions): Promise<WebSocket> {
  if (options.createWebSocket !== undefined) return options.createWebSocket();
  return new WebSocket(options.url, { headers: options.headers ?? {}, perMessageDeflate: false });
}

function connectFailed(err: unknown): VoxgateError {
  if (err instanceof VoxgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const errno = (err as { code?: unknown } | null)?.code;
  return new UpstreamError(ErrorCodes.CONNECT_FAILED, `could not connect to the provider: ${message}`, {
    cause: err,
    details: typeof errno === 'string' ? { errno } : undefined,
  });
}

/** Starts the closing handshake; a peer that never answers it is cut off after 2 s. */
function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    ws.terminate();
    return;
  }
  setTimeout(() => ws.terminate(), 2000).unref();
}
