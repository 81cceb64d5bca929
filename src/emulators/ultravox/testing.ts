/**
 * Ultravox test helpers (test-only; nothing on the runtime path imports them): the REST calls as plain `fetch`,
 * a raw `serverWebSocket` client of the emulator that keeps every data message and audio frame in order, and a
 * raw join server that does only what a connector test tells it.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { voiced } from '../testing.js';

export interface RestAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers freely.
  body: any;
}

/** `POST {baseUrl}{path}` with a JSON body and `X-API-Key` (unless `key` is null). */
export async function postJson(
  baseUrl: string,
  path: string,
  body: unknown,
  key: string | null = 'test-key',
): Promise<RestAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'X-API-Key': key }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

export async function request(
  baseUrl: string,
  method: string,
  path: string,
  key = 'test-key',
): Promise<RestAnswer> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: { 'X-API-Key': key } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

/** A call body with a `serverWebSocket` medium at `rate` (both ways) and what else is given. */
export function socketCall(
  rate = 16000,
  extra: Record<string, unknown> = {},
  socket: Record<string, unknown> = {},
) {
  return { ...extra, medium: { serverWebSocket: { inputSampleRate: rate, ...socket } } };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read messages freely.
type Message = Record<string, any>;

/** A plain `ws` client of the join socket. */
export class RawUltravoxClient {
  /** Data messages, in order. */
  readonly messages: Message[] = [];
  /** Binary frames, in order, with the index of the data message they followed. */
  readonly frames: { data: Buffer; after: number; at: number }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  #cursor = 0;
  #wake: (() => void) | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.frames.push({ data, after: this.messages.length, at: performance.now() });
      else this.messages.push(JSON.parse(String(data)) as Message);
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#wake?.();
      });
    });
  }

  static async join(url: string): Promise<RawUltravoxClient> {
    const ws = new WebSocket(url);
    const client = new RawUltravoxClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes of audio received. */
  get audioBytes(): number {
    return this.frames.reduce((n, f) => n + f.data.length, 0);
  }

  send(message: object | string): void {
    this.#ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendAudio(pcm: Int16Array | Uint8Array): void {
    this.#ws.send(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), { binary: true });
  }

  /** Streams PCM16 in 20 ms frames, all at once (the emulator's VAD runs on the audio's own timeline). */
  speak(pcm: Int16Array, rate: number): void {
    const step = rate / 50;
    for (let at = 0; at < pcm.length; at += step)
      this.sendAudio(pcm.subarray(at, Math.min(at + step, pcm.length)));
  }

  /** The next message matching `match` after the last one handed out. */
  async next(match: string | ((m: Message) => boolean), timeoutMs = 4000): Promise<Message> {
    const test = typeof match === 'string' ? (m: Message) => m.type === match : match;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.messages.length) {
        const m = this.messages[this.#cursor++]!;
        if (test(m)) return m;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const seen = this.messages.map((m) => m.type).join(', ');
        throw new Error(
          `timed out waiting for ${typeof match === 'string' ? match : 'a message'}; seen: ${seen}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }

  /** Every message from the cursor up to and including the next one matching. */
  async until(match: string | ((m: Message) => boolean), timeoutMs = 4000): Promise<Message[]> {
    const from = this.#cursor;
    await this.next(match, timeoutMs);
    return this.messages.slice(from, this.#cursor);
  }

  close(): void {
    this.#ws.close();
  }
}

/**
 * Silence, then `ms` of a voiced sound the turn detector calls speech (../testing.ts), then enough
 * silence to end a turn: one user turn. Keep some lead: the detector needs a quieter frame before the voice to
 * learn the noise floor from, as a real caller's line always has.
 */
export function userTurnPcm(rate: number, ms = 500, leadMs = 100, tailMs = 600): Int16Array {
  const pcm = new Int16Array(Math.round((rate * (leadMs + ms + tailMs)) / 1000));
  pcm.set(voiced(rate, ms), Math.round((rate * leadMs) / 1000));
  return pcm;
}

/** One connection to a {@link RawJoinServer}: everything the client sent, and a handle to misbehave with. */
export class RawJoinPeer {
  readonly ws: WebSocket;
  /** Text frames, as received (for exact wire checks). */
  readonly texts: string[] = [];
  /** Binary frames and when they arrived. */
  readonly binary: { data: Buffer; at: number }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.binary.push({ data, at: performance.now() });
      else this.texts.push(String(data));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  /** Parsed text frames. */
  get messages(): Message[] {
    return this.texts.map((t) => JSON.parse(t) as Message);
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendAudio(pcm: Int16Array): void {
    this.ws.send(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), { binary: true });
  }

  /** Resolves once `check()` holds (re-checked on every frame), or rejects after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`raw join server: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The text frame that parses to a message of `type` (waiting for it). */
  async text(type: string, timeoutMs?: number): Promise<string> {
    const find = () => this.texts.find((t) => (JSON.parse(t) as Message).type === type);
    await this.until(() => find() !== undefined, `a ${type} message`, timeoutMs);
    return find()!;
  }
}

/**
 * A bare `serverWebSocket` peer on 127.0.0.1:0 that does only what a test tells it (send any message, close,
 * refuse the upgrade), for exact wire checks and bad server behaviour.
 */
export class RawJoinServer {
  readonly url: string;
  readonly peers: RawJoinPeer[] = [];
  readonly #server: WebSocketServer;
  #taken = 0;
  #waiters: ((peer: RawJoinPeer) => void)[] = [];

  private constructor(server: WebSocketServer) {
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${address.port}/calls/raw/join`;
    server.on('connection', (ws) => {
      const peer = new RawJoinPeer(ws);
      this.peers.push(peer);
      this.#waiters.shift()?.(peer);
    });
  }

  /** `refuse`: answer every upgrade with this HTTP status. */
  static async start(options: { refuse?: number } = {}): Promise<RawJoinServer> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, done) =>
        options.refuse === undefined ? done(true) : done(false, options.refuse),
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new RawJoinServer(server);
  }

  /** The next connection not yet handed out. */
  next(timeoutMs = 4000): Promise<RawJoinPeer> {
    const existing = this.peers[this.#taken];
    if (existing !== undefined) {
      this.#taken++;
      return Promise.resolve(existing);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw join server: no connection')), timeoutMs);
      this.#waiters.push((peer) => {
        clearTimeout(timer);
        this.#taken++;
        resolve(peer);
      });
    });
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
