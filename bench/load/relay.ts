/**
 * The floor: a raw WebSocket relay with no processing. Each caller socket gets one upstream socket to the echo
 * server (same path and query, same `Authorization`), and every message is forwarded unchanged both ways, text
 * as text and binary as binary (messages the caller sends before the upstream is open wait in a small queue).
 * Whatever a gateway does per call, it costs at least this: two WebSockets and a copy each way.
 *
 * Run: `node --import tsx bench/load/relay.ts --upstream ws://127.0.0.1:PORT [--port N]`; prints
 * `{"ready":true,"port":N}` on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

export interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

export async function startRelay(upstreamBase: string, port = 0): Promise<Relay> {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  wss.on('connection', (caller, req) => {
    const headers: Record<string, string> = {};
    if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
    const upstream = new WebSocket(`${upstreamBase}${req.url ?? '/'}`, { headers, perMessageDeflate: false });
    let queue: [RawData, boolean][] | null = [];
    caller.on('message', (data, isBinary) => {
      if (queue !== null) queue.push([data, isBinary]);
      else if (upstream.readyState === WebSocket.OPEN) upstream.send(data as Buffer, { binary: isBinary });
    });
    upstream.on('open', () => {
      for (const [data, isBinary] of queue ?? []) upstream.send(data as Buffer, { binary: isBinary });
      queue = null;
    });
    upstream.on('message', (data, isBinary) => {
      if (caller.readyState === WebSocket.OPEN) caller.send(data as Buffer, { binary: isBinary });
    });
    const closeBoth = (): void => {
      if (caller.readyState <= WebSocket.OPEN) caller.close();
      if (upstream.readyState === WebSocket.OPEN) upstream.close();
      else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
    };
    caller.on('close', closeBoth);
    upstream.on('close', closeBoth);
    caller.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const upstream = arg('--upstream');
  if (upstream === undefined) throw new Error('--upstream ws://host:port is required');
  const relay = await startRelay(upstream, Number(arg('--port') ?? 0));
  process.stdout.write(`${JSON.stringify({ ready: true, port: relay.port })}\n`);
  const stop = (): void => {
    relay.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
