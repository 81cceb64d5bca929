/**
 * A third-party WebSocket peer that speaks the VoxEngine media protocol, on a real `ws` server at 127.0.0.1:0,
 * for scenario tests (a candidate for `voxgate/testing`). It records every frame it receives and can stream audio
 * back at any speed.
 */

import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { LogRecord } from '../log.js';
import { getLogLevel, setLogLevel, setLogSinks } from '../log.js';

/** Parsed JSON from the gateway, read freely by tests. */
// biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary wire JSON; strict typing would only add casts.
type Json = Record<string, any>;

/** A received frame: the parsed JSON (null when the text is not JSON) and when it arrived. */
export interface PeerMessage {
  text: string;
  json: Json | null;
  at: number;
}

export class PeerConnection {
  readonly socket: WsSocket;
  readonly request: IncomingMessage;
  readonly messages: PeerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #sequenceNumber = 0;
  #waiters: (() => void)[] = [];

  constructor(socket: WsSocket, request: IncomingMessage) {
    this.socket = socket;
    this.request = request;
    socket.on('message', (data) => {
      const text = data.toString();
      let json: Json | null = null;
      try {
        json = JSON.parse(text) as Json;
      } catch {}
      this.messages.push({ text, json, at: performance.now() });
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  /** Messages whose JSON `event` is `event`. */
  events(event: string): Json[] {
    return this.messages.filter((m) => m.json?.event === event).map((m) => m.json!);
  }

  /** Resolves with the first message matching `predicate` (waiting up to `timeoutMs`). */
  async waitFor(predicate: (m: PeerMessage) => boolean, timeoutMs = 5000): Promise<PeerMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('peer: timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForEvent(event: string, timeoutMs?: number): Promise<PeerMessage> {
    return this.waitFor((m) => m.json?.event === event, timeoutMs);
  }

  sendJson(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  sendText(text: string): void {
    this.socket.send(text);
  }

  sendStart(
    tag: string | undefined,
    encoding: string,
    sampleRate?: number,
    customParameters?: Record<string, string>,
  ): void {
    const mediaFormat: Record<string, unknown> = { encoding, channels: 1 };
    if (sampleRate !== undefined) mediaFormat.sampleRate = sampleRate;
    this.sendJson({
      event: 'start',
      sequenceNumber: this.#sequenceNumber++,
      start: { tag, mediaFormat, customParameters },
    });
  }

  sendStop(tag: string | undefined): void {
    this.sendJson({
      event: 'stop',
      sequenceNumber: this.#sequenceNumber++,
      stop: { tag, mediaInfo: { bytesSent: 0, duration: 0 } },
    });
  }

  /**
   * Streams `audio` as `media` frames of `chunkBytes`, `speed` times faster than real time (Infinity: all at
   * once). `chunkMs` is the duration of one chunk, for pacing.
   */
  async sendAudio(
    tag: string | undefined,
    audio: Uint8Array,
    chunkBytes: number,
    chunkMs = 20,
    speed = Infinity,
  ): Promise<void> {
    const started = performance.now();
    let chunk = 0;
    for (let off = 0; off < audio.length; off += chunkBytes) {
      const payload = Buffer.from(audio.subarray(off, off + chunkBytes)).toString('base64');
      this.sendJson({
        event: 'media',
        sequenceNumber: this.#sequenceNumber++,
        media: { tag, chunk, timestamp: String(chunk * chunkBytes), payload },
      });
      chunk++;
      if (Number.isFinite(speed)) {
        const due = started + (chunk * chunkMs) / speed;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
      }
    }
  }
}

export class PeerServer {
  readonly #server: WebSocketServer;
  readonly url: string;
  readonly connections: PeerConnection[] = [];
  #waiters: ((c: PeerConnection) => void)[] = [];

  private constructor(server: WebSocketServer) {
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${port}/media`;
    server.on('connection', (socket, request) => {
      const connection = new PeerConnection(socket, request);
      this.connections.push(connection);
      this.#waiters.shift()?.(connection);
    });
  }

  static async start(options: { maxPayload?: number } = {}): Promise<PeerServer> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new PeerServer(server);
  }

  /** The next connection not yet returned by this method (waits for it, up to `timeoutMs`). */
  nextConnection(timeoutMs = 5000): Promise<PeerConnection> {
    const taken = this.#taken++;
    const existing = this.connections[taken];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('peer: no connection')), timeoutMs);
      this.#waiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }
  #taken = 0;

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Captures log records at every level until the returned function is called (which restores the logger). */
export function captureLogs(): { records: LogRecord[]; restore: () => void } {
  const records: LogRecord[] = [];
  const level = getLogLevel();
  setLogLevel('debug');
  const restoreSinks = setLogSinks([(r) => records.push(r)]);
  return {
    records,
    restore: () => {
      restoreSinks();
      setLogLevel(level);
    },
  };
}
