/**
 * Helpers for tests that run a real voxgate server on 127.0.0.1 port 0 and talk to it with real clients: HTTP
 * without pooled keep-alive sockets (so nothing of the client outlives a test), a WebSocket client that records
 * every frame, and a check that no handle (socket, timer, server) is left once a call has ended.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { frameClock } from '../../src/graph/clock.js';
import type { ServerConfigInput } from '../../src/server/config.js';
import { createServer, type ServerOptions, type VoxgateServer } from '../../src/server/server.js';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown> & { code?: string; message?: string };
}

/** One HTTP request with `Connection: close` (no agent), JSON in and out. */
export function request(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: false,
        headers: {
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: HttpReply['json'] = {};
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function startServer(
  config: ServerConfigInput = {},
  options: ServerOptions = {},
): Promise<VoxgateServer> {
  const server = createServer({ port: 0, scenario: 'echo', ...config }, options);
  await server.listen();
  return server;
}

export type Format = 'pcm_s16le' | 'mulaw';

/** POST /call with Vapi's body; returns the parsed 201 reply. */
export async function createCall(
  server: VoxgateServer,
  audioFormat: Record<string, unknown> = { format: 'pcm_s16le', container: 'raw', sampleRate: 16000 },
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ id: string; url: string; body: Record<string, unknown> }> {
  const reply = await request(
    'POST',
    `${server.url}/call`,
    { transport: { provider: 'vapi.websocket', audioFormat }, ...extra },
    headers,
  );
  assert.equal(reply.status, 201, reply.text);
  const transport = reply.json.transport as { websocketCallUrl: string };
  return { id: reply.json.id as string, url: transport.websocketCallUrl, body: reply.json };
}

/** A call-socket client that records what it receives. */
export class CallClient {
  readonly ws: WebSocket;
  readonly audio: Buffer[] = [];
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) this.audio.push(Buffer.from(data));
      else this.messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  /** Opens the socket and waits for `status-update: in-progress` (the scenario answered; audio flows). */
  static async open(url: string, options?: WebSocket.ClientOptions): Promise<CallClient> {
    const client = new CallClient(url, options);
    await client.opened;
    await client.waitForMessage((m) => m.type === 'status-update' && m.status === 'in-progress');
    return client;
  }

  send(data: Buffer | Uint8Array | string | Record<string, unknown>): void {
    this.ws.send(typeof data === 'object' && !(data instanceof Uint8Array) ? JSON.stringify(data) : data);
  }

  audioBytes(): Buffer {
    return Buffer.concat(this.audio);
  }

  types(): unknown[] {
    return this.messages.map((m) => m.type);
  }

  async waitForMessage(
    predicate: (m: Record<string, unknown>) => boolean,
    ms = 3000,
  ): Promise<Record<string, unknown>> {
    await waitFor(() => this.messages.some(predicate), ms, 'a server message');
    return this.messages.find(predicate)!;
  }
}

/** The status and error code a refused upgrade answers with. */
export function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code: string };
        resolve({ status: res.statusCode ?? 0, code: body.code });
      });
    });
  });
}

export async function waitFor(check: () => boolean, ms = 3000, what = 'a condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Counts of the process's active resources by kind (sockets, timers, servers). */
export function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/**
 * Asserts that, within `ms`, the process holds no more resources of any kind than in `before` (taken before the
 * server or call existed), the frame clock has stopped and the server has no live call left.
 */
export async function assertNoHandlesLeft(
  before: Map<string, number>,
  server?: VoxgateServer,
  ms = 1000,
): Promise<void> {
  const extra = (): string[] => {
    const out: string[] = [];
    for (const [kind, n] of resources()) {
      const was = before.get(kind) ?? 0;
      if (n > was) out.push(`${kind} +${n - was}`);
    }
    return out;
  };
  try {
    await waitFor(
      () => extra().length === 0 && !frameClock.running && (server?.liveCalls.size ?? 0) === 0,
      ms,
    );
  } catch {
    assert.fail(
      `handles left after the call: ${extra().join(', ') || 'none'}; frameClock.running=${frameClock.running}; ` +
        `live calls=${server?.liveCalls.size ?? 0}`,
    );
  }
}
