/**
 * One simulated caller per call, in the wire protocol of the system under test:
 *
 * - `vapi`: voxgate's call API: `POST /call`, open `websocketCallUrl`, wait for `status-update: in-progress`,
 *   then binary frames both ways.
 * - `openai`: the OpenAI Realtime protocol itself (direct to the echo server, or through the floor relay):
 *   `session.update` with the format, `input_audio_buffer.append` out, `response.output_audio.delta` back.
 * - `twilio`: Twilio Media Streams JSON (`connected`, `start`, `media` … `stop`), echoing every `mark` back as
 *   Twilio does once the audio before it has played.
 *
 * A caller stamps each frame it sends and matches what comes back: by the marker in the first bytes (mu-law), or
 * by tone-burst onsets (PCM16, resampled on the way). Parsing of received messages is a byte scan, so the
 * generator spends its CPU on sockets, not JSON.
 */
import { WebSocket } from 'ws';
import {
  type BurstPattern,
  burstFrame,
  epochNow,
  type Histogram,
  markedUlawFrame,
  OnsetDetector,
  PERIOD_FRAMES,
  readMarker,
  readMarkerBase64,
  type TargetSpec,
} from './common.js';

const RING = 256;
const BURST_RING = 16;
const SETUP_TIMEOUT_MS = 10_000;

const DELTA_TYPE = Buffer.from('"type":"response.output_audio.delta"');
const DELTA_KEY = Buffer.from('"delta":"');
const MEDIA_EVENT = Buffer.from('"event":"media"');
const MARK_EVENT = Buffer.from('"event":"mark"');
const PAYLOAD_KEY = Buffer.from('"payload":"');
const IN_PROGRESS = Buffer.from('"in-progress"');
const ENDED = Buffer.from('"status":"ended"');
const QUOTE = 0x22;

/** What every caller of one step shares: the window, the histograms, the audio pattern. */
export interface CallerShared {
  readonly target: TargetSpec;
  readonly rtt: Histogram;
  /** Round trips by second of the window (at most 4000 kept per second), for drift over the window. */
  readonly series: number[][];
  windowStart: number;
  readonly pattern: BurstPattern | null;
  windowOpen: boolean;
  /** performance.now() of the last audio received by any caller (the drain waits for quiet). */
  lastAudioAt: number;
}

export interface CallerCounters {
  framesSentW: number;
  framesRecvW: number;
  bytesSentW: number;
  bytesRecvW: number;
  burstsSentW: number;
  burstsDetectedW: number;
  unmatched: number;
  /** Whole-call byte balance (onset method): everything sent, what was sent before the first echo, all received. */
  bytesSentAll: number;
  bytesSentBeforeEcho: number;
  bytesRecvAll: number;
}

export class Caller {
  readonly tag: string;
  readonly counters: CallerCounters = {
    framesSentW: 0,
    framesRecvW: 0,
    bytesSentW: 0,
    bytesRecvW: 0,
    burstsSentW: 0,
    burstsDetectedW: 0,
    unmatched: 0,
    bytesSentAll: 0,
    bytesSentBeforeEcho: -1,
    bytesRecvAll: 0,
  };
  setupStartEpoch = 0;
  /** When the caller was told to stream (vapi: `status-update: in-progress`; others: socket open). */
  readyEpoch = 0;
  streaming = false;
  closedEarly = false;
  readonly #shared: CallerShared;
  #ws: WebSocket | null = null;
  #seq = 0;
  readonly #sendTime = new Float64Array(RING);
  readonly #sendSeq = new Int32Array(RING).fill(-1);
  readonly #sendInW = new Uint8Array(RING);
  readonly #burstTime = new Float64Array(BURST_RING);
  readonly #burstK = new Int32Array(BURST_RING).fill(-1);
  readonly #burstInW = new Uint8Array(BURST_RING);
  readonly #detector: OnsetDetector | null;
  readonly #streamSid: string;
  #ending = false;

  constructor(shared: CallerShared, tag: string) {
    this.#shared = shared;
    this.tag = tag;
    this.#streamSid = `MZ${tag.replace(/[^A-Za-z0-9]/g, '').slice(-30)}`;
    const p = shared.pattern;
    this.#detector = p === null ? null : new OnsetDetector(p.rate, (t, f) => this.#onOnset(t, f));
  }

  /** Sets the call up; resolves when the caller should start streaming. */
  async start(): Promise<void> {
    this.setupStartEpoch = epochNow();
    const t = this.#shared.target;
    let url: string;
    if (t.protocol === 'vapi') url = await this.#createCall();
    else if (t.protocol === 'openai') url = `${t.url}?model=${encodeURIComponent(this.tag)}`;
    else url = `${t.url}?tag=${encodeURIComponent(this.tag)}`;
    const headers = t.protocol === 'openai' ? { Authorization: 'Bearer sk-bench' } : undefined;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.#ws = ws;
    ws.on('error', () => {});
    ws.on('close', () => {
      if (!this.#ending) this.closedEarly = true;
      this.streaming = false;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('setup timed out')), SETUP_TIMEOUT_MS);
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      ws.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`closed during setup (${code})`));
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`HTTP ${res.statusCode} on connect`));
      });
      ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary, ready));
      ws.once('open', () => this.#onOpen(ready));
    });
    this.readyEpoch = epochNow();
    this.streaming = true;
  }

  async #createCall(): Promise<string> {
    const t = this.#shared.target;
    const audioFormat =
      t.audio === 'ulaw'
        ? { format: 'mulaw', container: 'raw', sampleRate: 8000 }
        : { format: 'pcm_s16le', container: 'raw', sampleRate: 16000 };
    const res = await fetch(`${t.url}/call`, {
      signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        transport: { provider: 'vapi.websocket', audioFormat },
        metadata: { bench: this.tag },
      }),
    });
    const body = (await res.json()) as { transport?: { websocketCallUrl?: string }; message?: string };
    const url = body.transport?.websocketCallUrl;
    if (res.status !== 201 || url === undefined)
      throw new Error(`POST /call ${res.status}: ${body.message ?? ''}`);
    return url;
  }

  #onOpen(ready: () => void): void {
    const t = this.#shared.target;
    const ws = this.#ws!;
    if (t.protocol === 'openai') {
      const format = t.audio === 'ulaw' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 24000 };
      ws.send(
        JSON.stringify({
          type: 'session.update',
          session: {
            type: 'realtime',
            audio: { input: { format, turn_detection: null }, output: { format } },
          },
        }),
      );
      ready();
    } else if (t.protocol === 'twilio') {
      ws.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
      ws.send(
        JSON.stringify({
          event: 'start',
          sequenceNumber: '1',
          start: {
            accountSid: 'ACbench',
            streamSid: this.#streamSid,
            callSid: `CA${this.#streamSid.slice(2)}`,
            tracks: ['inbound'],
            customParameters: {},
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          },
          streamSid: this.#streamSid,
        }),
      );
      ready();
    }
    // vapi: ready on `status-update: in-progress`.
  }

  /** Sends the next frame; `now` is the caller's clock (performance.now()). */
  sendFrame(): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    const seq = this.#seq++;
    const inW = this.#shared.windowOpen;
    const t = this.#shared.target;
    const p = this.#shared.pattern;
    const frame = p === null ? markedUlawFrame(seq) : burstFrame(p, seq);
    const now = performance.now();
    if (p === null) {
      const i = seq & (RING - 1);
      this.#sendTime[i] = now;
      this.#sendSeq[i] = seq;
      this.#sendInW[i] = inW ? 1 : 0;
    } else if (seq % PERIOD_FRAMES === 0) {
      const k = seq / PERIOD_FRAMES;
      const j = k & (BURST_RING - 1);
      this.#burstTime[j] = now;
      this.#burstK[j] = k;
      this.#burstInW[j] = inW ? 1 : 0;
      if (inW) this.counters.burstsSentW++;
    }
    if (inW) {
      this.counters.framesSentW++;
      this.counters.bytesSentW += frame.length;
    }
    this.counters.bytesSentAll += frame.length;
    if (t.protocol === 'vapi') ws.send(frame);
    else if (t.protocol === 'openai')
      ws.send(`{"type":"input_audio_buffer.append","audio":"${frame.toString('base64')}"}`);
    else {
      const ts = seq * 20;
      ws.send(
        `{"event":"media","sequenceNumber":"${seq + 2}","media":{"track":"inbound","chunk":"${seq + 1}","timestamp":"${ts}","payload":"${frame.toString('base64')}"},"streamSid":"${this.#streamSid}"}`,
      );
    }
  }

  /** Hangs up. Resolves when the socket has closed (or after 3 s). */
  end(): Promise<void> {
    this.#ending = true;
    this.streaming = false;
    const ws = this.#ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 3000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) {
        if (this.#shared.target.protocol === 'twilio')
          ws.send(`{"event":"stop","sequenceNumber":"${this.#seq + 2}","streamSid":"${this.#streamSid}"}`);
        ws.close(1000);
      } else ws.terminate();
    });
  }

  #onMessage(buf: Buffer, isBinary: boolean, ready: () => void): void {
    const now = performance.now();
    const protocol = this.#shared.target.protocol;
    if (isBinary) {
      if (protocol === 'vapi') this.#onAudio(buf, now);
      return;
    }
    if (protocol === 'openai') {
      if (buf.indexOf(DELTA_TYPE) >= 0) this.#onBase64(extract(buf, DELTA_KEY), now);
    } else if (protocol === 'twilio') {
      if (buf.indexOf(MEDIA_EVENT) >= 0) this.#onBase64(extract(buf, PAYLOAD_KEY), now);
      else if (buf.indexOf(MARK_EVENT) >= 0) this.#ws?.send(buf, { binary: false });
    } else if (buf.indexOf(IN_PROGRESS) >= 0) ready();
    else if (buf.indexOf(ENDED) >= 0 && !this.#ending) this.closedEarly = true;
  }

  #onBase64(b64: string | null, now: number): void {
    if (b64 === null) return;
    this.#shared.lastAudioAt = now;
    if (this.#detector === null) this.#onSeq(readMarkerBase64(b64), now, 160);
    else this.#onAudio(Buffer.from(b64, 'base64'), now);
  }

  #onAudio(bytes: Buffer, now: number): void {
    this.#shared.lastAudioAt = now;
    const k = this.counters;
    if (k.bytesSentBeforeEcho < 0) k.bytesSentBeforeEcho = k.bytesSentAll;
    k.bytesRecvAll += bytes.length;
    if (this.#shared.windowOpen) k.bytesRecvW += bytes.length;
    if (this.#detector === null) this.#onSeq(readMarker(bytes), now, -1);
    else this.#detector.push(bytes, now);
  }

  #onSeq(seq: number, now: number, bytes: number): void {
    const i = seq & (RING - 1);
    if (seq < 0 || this.#sendSeq[i] !== seq) {
      this.counters.unmatched++;
      return;
    }
    this.#sendSeq[i] = -1;
    if (this.#sendInW[i] === 1) {
      this.#record(now, now - this.#sendTime[i]!);
      this.counters.framesRecvW++;
      if (bytes > 0) this.counters.bytesRecvW += bytes;
    }
  }

  #record(now: number, rtt: number): void {
    const shared = this.#shared;
    shared.rtt.add(rtt);
    const second = Math.floor((now - shared.windowStart) / 1000);
    if (second < 0) return;
    let bucket = shared.series[second];
    if (bucket === undefined) {
      bucket = [];
      shared.series[second] = bucket;
    }
    if (bucket.length < 4000) bucket.push(rtt);
  }

  #onOnset(timeMs: number, freqIndex: number): void {
    let best = -1;
    for (let j = 0; j < BURST_RING; j++) {
      const k = this.#burstK[j]!;
      if (
        k >= 0 &&
        k % 4 === freqIndex &&
        this.#burstTime[j]! <= timeMs &&
        (best < 0 || k > this.#burstK[best]!)
      )
        best = j;
    }
    if (best < 0) {
      this.counters.unmatched++;
      return;
    }
    this.#burstK[best] = -1;
    if (this.#burstInW[best] === 1) {
      this.#record(timeMs, timeMs - this.#burstTime[best]!);
      this.counters.burstsDetectedW++;
    }
  }
}

/** The JSON string value after `key` (base64 holds no quotes or escapes), or null. */
function extract(buf: Buffer, key: Buffer): string | null {
  const at = buf.indexOf(key);
  if (at < 0) return null;
  const start = at + key.length;
  const end = buf.indexOf(QUOTE, start);
  return end < 0 ? null : buf.toString('latin1', start, end);
}
