/**
 * The peer: the official `@openai/agents-extensions` Twilio transport (`TwilioRealtimeTransportLayer`) under an
 * `@openai/agents-realtime` `RealtimeSession`, as its documentation wires it. Each Twilio media-stream WebSocket
 * (`/media?tag=…`) gets a transport and a session connected to the echo server (model = the call's bench tag);
 * the transport passes mu-law through in both directions (no resampling) and sends a `mark` after every chunk.
 * Server VAD is off (`turnDetection: null`) so the echo server's one long response flows; tracing is disabled.
 *
 * Run: `node --import tsx bench/load/peer.ts --upstream ws://127.0.0.1:PORT/v1/realtime [--port N]`; prints
 * `{"ready":true,"port":N}` on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { TwilioRealtimeTransportLayer } from '@openai/agents-extensions';
import { RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
import { WebSocketServer } from 'ws';

export interface PeerServer {
  readonly port: number;
  readonly errors: string[];
  close(): Promise<void>;
}

export async function startPeer(upstreamUrl: string, port = 0): Promise<PeerServer> {
  const agent = new RealtimeAgent({ name: 'bench', instructions: 'Echo.' });
  const errors: string[] = [];
  const sessions = new Set<RealtimeSession>();
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const tag = new URL(req.url ?? '/', 'http://peer.invalid').searchParams.get('tag') ?? 'gpt-realtime';
    const transport = new TwilioRealtimeTransportLayer({
      twilioWebSocket: ws as unknown as WebSocket,
      url: `${upstreamUrl}?model=${encodeURIComponent(tag)}`,
    });
    const session = new RealtimeSession(agent, {
      transport,
      model: tag,
      tracingDisabled: true,
      config: { audio: { input: { turnDetection: null } } },
    });
    sessions.add(session);
    session.on('error', (e) => {
      if (errors.length < 20) errors.push(String((e.error as { message?: unknown })?.message ?? e.error));
    });
    ws.on('close', () => {
      sessions.delete(session);
      session.close();
    });
    session.connect({ apiKey: 'sk-bench' }).catch((err: unknown) => {
      if (errors.length < 20) errors.push(`connect: ${(err as Error).message}`);
      ws.close();
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.close();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  process.env.OPENAI_AGENTS_DISABLE_TRACING = '1';
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const upstream = arg('--upstream');
  if (upstream === undefined) throw new Error('--upstream ws://host:port/v1/realtime is required');
  const peer = await startPeer(upstream, Number(arg('--port') ?? 0));
  process.stdout.write(`${JSON.stringify({ ready: true, port: peer.port })}\n`);
  const stop = (): void => {
    if (peer.errors.length > 0) process.stderr.write(`peer errors: ${JSON.stringify(peer.errors)}\n`);
    peer.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
