/**
 * The one HTTP + WebSocket server every emulator runs on: listen on host/port, route upgrades by path, track
 * open sockets, close cleanly. No vendor logic lives here: a vendor file passes routes (and, for REST APIs, an
 * HTTP handler) and gets sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

/** What to do with an upgrade request. */
export type UpgradeDecision =
  | { readonly accept: true }
  | { readonly accept: false; readonly status: number; readonly body: unknown };

export interface WsRoute {
  /** Exact path, e.g. `/v1/realtime`. */
  readonly path: string;
  /** Also route every path below `path` (e.g. `/calls/` takes `/calls/<id>/join`); exact paths win. */
  readonly prefix?: boolean;
  /** Largest message accepted; a bigger one closes the socket with 1009 (ws's `maxPayload`). */
  readonly maxMessageBytes: number;
  /** Offer `permessage-deflate` to clients that ask for it. */
  readonly perMessageDeflate?: boolean;
  /** Pick a subprotocol from those offered, or `false` for none. Default: none. */
  selectProtocol?(offered: ReadonlySet<string>, req: IncomingMessage): string | false;
  /** Accept or refuse the upgrade (auth, query checks) before the handshake completes. */
  authorize?(req: IncomingMessage, url: URL): UpgradeDecision;
  /** Called once per accepted socket. */
  onConnection(ws: WebSocket, req: IncomingMessage, url: URL): void;
}

export interface EmulatorServerOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  readonly routes: readonly WsRoute[];
  /** Plain HTTP requests; return true when handled. Unhandled requests get a JSON 404. */
  readonly onRequest?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
  /** How long `close()` waits for sockets to finish their closing handshake before terminating them. */
  readonly closeGraceMs?: number;
  readonly log: Logger;
}

export interface EmulatorServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly httpUrl: string;
  /** `ws://host:port` */
  readonly wsUrl: string;
  /** Sockets currently open. */
  readonly openSockets: number;
  /** Closes every socket with 1001, then the listener. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts listening; rejects with a ConfigError when the address cannot be bound. */
export async function startEmulatorServer(options: EmulatorServerOptions): Promise<EmulatorServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log;
  const sockets = new Set<WebSocket>();
  let closing = false;
  const routes = new Map<string, { route: WsRoute; wss: WebSocketServer }>();
  for (const route of options.routes) {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: route.maxMessageBytes,
      perMessageDeflate: route.perMessageDeflate ?? false,
      handleProtocols: (offered, req) => route.selectProtocol?.(offered, req) ?? false,
    });
    routes.set(route.path, { route, wss });
  }

  const server: Server = createServer((req, res) => {
    const url = requestUrl(req);
    if (options.onRequest?.(req, res, url) === true) return;
    sendJson(res, 404, { error: { message: `Not found: ${url.pathname}`, type: 'invalid_request_error' } });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(req);
    const entry =
      routes.get(url.pathname) ??
      [...routes.values()].find((e) => e.route.prefix === true && url.pathname.startsWith(e.route.path));
    if (entry === undefined) {
      rejectUpgrade(socket, 404, {
        error: { message: `Not found: ${url.pathname}`, type: 'invalid_request_error' },
      });
      return;
    }
    const decision = entry.route.authorize?.(req, url) ?? { accept: true };
    if (!decision.accept) {
      log.debug({ path: url.pathname, status: decision.status }, 'upgrade refused');
      rejectUpgrade(socket, decision.status, decision.body);
      return;
    }
    entry.wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing) {
        ws.close(1001, 'server shutting down');
        return;
      }
      sockets.add(ws);
      ws.once('close', () => sockets.delete(ws));
      try {
        entry.route.onConnection(ws, req, url);
      } catch (err) {
        log.error({ err, path: url.pathname }, 'emulator failed to open a session');
        ws.close(1011, 'internal error');
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new ConfigError(`cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err }),
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'emulator server error'));

  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  return {
    host,
    port,
    httpUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}`,
    get openSockets() {
      return sockets.size;
    },
    close() {
      closing = true;
      closed ??= closeAll(server, sockets, routes, options.closeGraceMs ?? 1000);
      return closed;
    },
  };
}

async function closeAll(
  server: Server,
  sockets: Set<WebSocket>,
  routes: Map<string, { wss: WebSocketServer }>,
  graceMs: number,
): Promise<void> {
  const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  const pending = [...sockets].map(
    (ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        const timer = setTimeout(() => ws.terminate(), graceMs);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
      }),
  );
  await Promise.all(pending);
  for (const { wss } of routes.values()) wss.close();
  server.closeAllConnections();
  await listenerClosed;
}

function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://emulator.invalid');
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
};

function rejectUpgrade(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** A timer that fires after `ms` without a `touch()`; `ms <= 0` never fires. Does not keep the process alive. */
export interface IdleTimer {
  touch(): void;
  stop(): void;
}

export function idleTimer(ms: number, onIdle: () => void): IdleTimer {
  if (ms <= 0) return { touch() {}, stop() {} };
  const timer = setTimeout(onIdle, ms);
  timer.unref();
  return {
    touch: () => {
      timer.refresh();
    },
    stop: () => clearTimeout(timer),
  };
}
