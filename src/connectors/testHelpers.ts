/**
 * Helpers for the connector tests: waiting on an event with a generous deadline, and a tiny raw `ws` server that
 * misbehaves on purpose (refuse, stall, close mid-response, send garbage). Test-only; nothing on the runtime path
 * imports it.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** Resolves with the first value `subscribe` delivers; rejects after `ms` naming `what`. */
export function waitFor<T>(
  subscribe: (resolve: (value: T) => void) => void,
  what: string,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Resolves once `predicate()` holds (polled every 10 ms); rejects after `ms` naming `what`. */
export function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  return waitFor<void>(
    (resolve) => {
      const poll = setInterval(() => {
        if (!predicate()) return;
        clearInterval(poll);
        resolve();
      }, 10);
      setTimeout(() => clearInterval(poll), ms).unref();
    },
    what,
    ms,
  );
}

export interface RawServer {
  url: string;
  httpUrl: string;
  /** Every parsed message each connection sent, in order. */
  received: Record<string, unknown>[];
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** A `ws` server on 127.0.0.1:0 that hands each connection to `onConnection` (after an optional session.created). */
export async function rawServer(
  onConnection: (ws: WebSocket, received: Record<string, unknown>[]) => void,
  options: { sessionCreated?: boolean; verifyClient?: (authorization: string | undefined) => number } = {},
): Promise<RawServer> {
  const received: Record<string, unknown>[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) => {
      const status = options.verifyClient?.(info.req.headers.authorization) ?? 101;
      if (status === 101) done(true);
      else done(false, status);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      try {
        received.push(JSON.parse(String(data)) as Record<string, unknown>);
      } catch {
        received.push({ type: '<not json>' });
      }
    });
    if (options.sessionCreated ?? true) ws.send(JSON.stringify(sessionCreated()));
    onConnection(ws, received);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    httpUrl: `http://127.0.0.1:${port}/`,
    received,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

let ids = 0;
export const eventId = (): string => `event_test${++ids}`;

export function sessionCreated(): Record<string, unknown> {
  return {
    type: 'session.created',
    event_id: eventId(),
    session: {
      type: 'realtime',
      object: 'realtime.session',
      id: 'sess_test',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      tracing: null,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          turn_detection: { type: 'server_vad', interrupt_response: true },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
      },
    },
  };
}

/** A TCP listener that accepts connections and never answers: the opening handshake stalls. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: import('node:net').Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
