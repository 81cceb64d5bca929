import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { ErrorCodes, VoxgateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ApiKeyAuth } from './auth.js';
import { errorBody, statusText } from './http.js';
import type { LiveCall } from './liveCall.js';
import type { CallRegistry, TokenClaim } from './registry.js';

/**
 * Every WebSocket upgrade goes through here: `/call/:id/transport?token=…` opens a caller's media socket;
 * `/session/<key>/…` hands a socket to that call's scenario session (VoxEngine's incoming WebSockets; the key is
 * the unguessable segment of the session's access URL). Anything
 * refused is answered with an HTTP status and a JSON error body before the upgrade, so clients can read why.
 */

export interface WsRouterDeps {
  auth: ApiKeyAuth;
  registry: CallRegistry;
  liveCalls: Map<string, LiveCall>;
  /** Calls by session key (the secret segment of a session's access URL). */
  sessionCalls: Map<string, LiveCall>;
  closing: () => boolean;
  maxPayload: number;
  logger: Logger;
}

const CLAIM_ERRORS: Record<
  Exclude<TokenClaim, 'ok'>,
  [status: number, code: VoxgateError['code'], message: string]
> = {
  bad: [
    401,
    ErrorCodes.BAD_TOKEN,
    'the call URL is not valid: use the websocketCallUrl from POST /call as is',
  ],
  used: [409, ErrorCodes.TOKEN_USED, 'this call URL was already used; create a new call'],
  expired: [410, ErrorCodes.TOKEN_EXPIRED, 'this call URL expired before it was used; create a new call'],
  ended: [410, ErrorCodes.CALL_ENDED, 'this call has ended; create a new call'],
};

export class WsRouter {
  readonly wss: WebSocketServer;
  readonly #deps: WsRouterDeps;

  constructor(deps: WsRouterDeps) {
    this.#deps = deps;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayload, perMessageDeflate: false });
  }

  /** The http server's `upgrade` listener. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', this.#onSocketError);
    this.#route(req, socket, head).catch((err: unknown) => {
      this.#deps.logger.error({ err }, 'websocket upgrade failed');
      reject(socket, new VoxgateError(ErrorCodes.INTERNAL, 'internal error', { status: 500 }));
    });
  };

  async #route(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    if (this.#deps.closing()) {
      reject(
        socket,
        new VoxgateError(ErrorCodes.SHUTTING_DOWN, 'the server is shutting down', { status: 503 }),
      );
      return;
    }
    if (parts.length === 3 && parts[0] === 'call' && parts[2] === 'transport') {
      await this.#callSocket(req, socket, head, parts[1]!, url.searchParams.get('token'));
      return;
    }
    if (parts.length >= 2 && parts[0] === 'session') {
      this.#sessionSocket(req, socket, head, parts[1]!);
      return;
    }
    reject(
      socket,
      new VoxgateError(ErrorCodes.NOT_FOUND, `no WebSocket endpoint at ${url.pathname}`, { status: 404 }),
    );
  }

  async #callSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    id: string,
    token: string | null,
  ): Promise<void> {
    // Browsers cannot send headers, so the URL's token is the credential; a key that is sent must be right.
    if (req.headers.authorization !== undefined && this.#deps.auth.check(req.headers) !== 'ok') {
      reject(socket, new VoxgateError(ErrorCodes.UNAUTHORIZED, 'the API key is not valid', { status: 401 }));
      return;
    }
    const claim: TokenClaim =
      token === null || token === '' ? 'bad' : await this.#deps.registry.claimToken(id, token, Date.now());
    if (claim !== 'ok') {
      const [status, code, message] = CLAIM_ERRORS[claim];
      reject(socket, new VoxgateError(code, message, { status }));
      return;
    }
    const live = this.#deps.liveCalls.get(id);
    if (live === undefined || live.state !== 'queued') {
      const [status, code, message] = CLAIM_ERRORS.ended;
      reject(socket, new VoxgateError(code, message, { status }));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      socket.off('error', this.#onSocketError);
      live.connect(ws);
    });
  }

  #sessionSocket(req: IncomingMessage, socket: Duplex, head: Buffer, key: string): void {
    const session = this.#deps.sessionCalls.get(key)?.session;
    const accept = session?.acceptWebSocket;
    if (session === null || session === undefined || accept === undefined) {
      reject(
        socket,
        new VoxgateError(ErrorCodes.NOT_FOUND, 'no session accepts WebSockets here', { status: 404 }),
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      socket.off('error', this.#onSocketError);
      accept.call(session, ws, req);
    });
  }

  #onSocketError = (err: Error): void => {
    this.#deps.logger.debug({ err }, 'upgrade socket error');
  };

  /** Cuts every socket still open (after the shutdown grace) and stops the server. */
  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
function reject(socket: Duplex, error: VoxgateError): void {
  if (socket.destroyed) return;
  const status = error.status ?? 500;
  const body = JSON.stringify(errorBody(error));
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
