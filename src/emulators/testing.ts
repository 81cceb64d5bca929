/**
 * Test helpers for the emulators: a raw WebSocket client that reads server events in order, a check of server
 * events against the official `@openai/agents-realtime` client's own zod schemas (dev dependency, loaded lazily
 * by file path because the package does not export them), and {@link voiced}, a synthetic sound the emulators'
 * turn detector calls speech.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as RT from 'openai/resources/realtime/realtime.js';
import { WebSocket } from 'ws';

export type ServerEvent = RT.RealtimeServerEvent & { event_id: string };
export type ServerEventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

interface Waiter {
  match: (e: ServerEvent) => boolean;
  resolve: (e: ServerEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A plain `ws` client that keeps every server event and hands them out in order. */
export class RawRealtimeClient {
  readonly events: ServerEvent[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  #cursor = 0;
  #waiter: Waiter | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      this.events.push(JSON.parse(String(data)) as ServerEvent);
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        const w = this.#waiter;
        if (w !== null) {
          this.#waiter = null;
          clearTimeout(w.timer);
          w.reject(new Error(`socket closed (${code}) while waiting for an event`));
        }
      });
    });
  }

  static async connect(
    url: string,
    options: { headers?: Record<string, string>; protocols?: string[] } = {
      headers: { Authorization: 'Bearer sk-test' },
    },
  ): Promise<RawRealtimeClient> {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    const client = new RawRealtimeClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  send(event: object | string): void {
    this.#ws.send(typeof event === 'string' ? event : JSON.stringify(event));
  }

  /** The next event of `type` after the previous one handed out (skipping others). */
  next<T extends ServerEvent['type']>(type: T, timeoutMs = 3000): Promise<ServerEventOf<T>> {
    return this.nextMatching((e) => e.type === type, timeoutMs, type) as Promise<ServerEventOf<T>>;
  }

  /** Every event from the cursor up to and including the next one of `type`. */
  async until(type: ServerEvent['type'], timeoutMs = 3000): Promise<ServerEvent[]> {
    const from = this.#cursor;
    await this.next(type, timeoutMs);
    return this.events.slice(from, this.#cursor);
  }

  nextMatching(
    match: (e: ServerEvent) => boolean,
    timeoutMs = 3000,
    what = 'a matching event',
  ): Promise<ServerEvent> {
    if (this.#waiter !== null) throw new Error('one wait at a time');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        const seen = this.events.slice(this.#cursor).map((e) => e.type);
        reject(new Error(`timed out waiting for ${what}; unread: ${seen.join(', ') || 'none'}`));
      }, timeoutMs);
      this.#waiter = { match, resolve, reject, timer };
      this.#wake();
    });
  }

  /** Resolves when no event arrived for `quietMs`; returns the events from the cursor on (and skips them). */
  async drain(quietMs = 100): Promise<ServerEvent[]> {
    let count = -1;
    while (count !== this.events.length) {
      count = this.events.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    const out = this.events.slice(this.#cursor);
    this.#cursor = this.events.length;
    return out;
  }

  close(): void {
    this.#ws.close();
  }

  #wake(): void {
    const w = this.#waiter;
    if (w === null) return;
    while (this.#cursor < this.events.length) {
      const e = this.events[this.#cursor++]!;
      if (w.match(e)) {
        this.#waiter = null;
        clearTimeout(w.timer);
        w.resolve(e);
        return;
      }
    }
  }
}

interface OfficialSchemas {
  parseRealtimeEvent(event: { data: string }): { isGeneric: boolean };
  realtimeMessageItemSchema: { safeParse(v: unknown): { success: boolean; error?: unknown } };
}

let schemas: Promise<OfficialSchemas> | null = null;

async function loadOfficialSchemas(): Promise<OfficialSchemas> {
  const entry = createRequire(import.meta.url).resolve('@openai/agents-realtime');
  const dist = dirname(entry);
  const events = (await import(pathToFileURL(join(dist, 'openaiRealtimeEvents.mjs')).href)) as Pick<
    OfficialSchemas,
    'parseRealtimeEvent'
  >;
  const items = (await import(pathToFileURL(join(dist, 'items.mjs')).href)) as Pick<
    OfficialSchemas,
    'realtimeMessageItemSchema'
  >;
  return {
    parseRealtimeEvent: events.parseRealtimeEvent,
    realtimeMessageItemSchema: items.realtimeMessageItemSchema,
  };
}

/**
 * Why the official client would not accept `event`, or null when it would: the event must parse against the
 * client's GA schema (else the client only sees it on `'*'`), and message items must parse as the client's
 * history items (it throws on those that do not).
 */
export async function officialClientProblem(event: ServerEvent): Promise<string | null> {
  schemas ??= loadOfficialSchemas();
  const s = await schemas;
  if (s.parseRealtimeEvent({ data: JSON.stringify(event) }).isGeneric)
    return `${event.type}: rejected by the client's schema`;
  const item =
    'item' in event
      ? (event.item as { type?: string; id?: string; role?: string; content?: unknown[]; status?: string })
      : undefined;
  if (item?.type === 'message') {
    const content =
      item.role === 'assistant'
        ? item.content?.map((c) =>
            (c as { type?: string }).type === 'audio' ? { ...(c as object), type: 'output_audio' } : c,
          )
        : item.content;
    const r = s.realtimeMessageItemSchema.safeParse({
      itemId: item.id,
      type: 'message',
      role: item.role,
      content,
      status: item.status ?? 'completed',
    });
    if (!r.success)
      return `${event.type}: message item rejected by the client (${JSON.stringify(r.error).slice(0, 300)})`;
  }
  return null;
}

const FORMANTS: readonly (readonly [hz: number, bandwidth: number])[] = [
  [700, 110],
  [1220, 120],
  [2600, 160],
];

/**
 * `ms` of a synthetic vowel at `rate`, scaled to `dbfs` RMS (dBFS as in src/media/level.ts), that the turn
 * detector (src/agent/vad.ts: fvad ANDed with an energy gate) calls speech from its first 20 ms frame to its last
 * (checked at every supported rate and through G.711, -10 to -30 dBFS, 100 ms to 5 s; fvad misses quieter
 * sound). A pure tone will not do: fvad adapts to a steady signal and calls a 330 Hz tone noise after about
 * 80 ms. This is a harmonic series on a gliding pitch (about 120 Hz, 3 Hz vibrato), shaped by three formants
 * (/a/: 700, 1220, 2600 Hz) and a spectral tilt, in 250 ms syllables: a swell, then a 40 ms dip 26 dB down (as
 * between words, so the detector's noise floor stays below the voice in long stretches), with 10 ms edges.
 * Deterministic. Put some silence before it: the detector learns the floor from a quieter frame first.
 */
export function voiced(rate: number, ms: number, dbfs = -20): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Float64Array(n);
  const top = Math.min(rate / 2, 4000) * 0.95;
  const edge = rate / 100;
  let phase = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f0 = 120 * (1 + 0.08 * Math.sin(2 * Math.PI * 3 * t));
    phase += (2 * Math.PI * f0) / rate;
    let s = 0;
    for (let k = 1; k * f0 < top; k++) {
      const f = k * f0;
      let gain = 0.3 / k;
      for (const [hz, bw] of FORMANTS) gain += 1 / (1 + ((f - hz) / bw) ** 2);
      s += gain * Math.sin(k * phase);
    }
    const v = s * syllable(i, n, rate) * Math.min(1, i / edge, (n - 1 - i) / edge);
    out[i] = v;
    sum += v * v;
  }
  const gain = n === 0 || sum === 0 ? 0 : (32768 * 10 ** (dbfs / 20)) / Math.sqrt(sum / n);
  return Int16Array.from(out, (x) => Math.max(-32768, Math.min(32767, Math.round(x * gain))));
}

const SYLLABLE_MS = 250;
const DIP_MS = 40;

/** The syllable envelope at sample `i` of `n`: a swell, then a dip (none in the last 100 ms: the sound ends voiced). */
function syllable(i: number, n: number, rate: number): number {
  const ms = (i * 1000) / rate;
  const u = ms % SYLLABLE_MS;
  const voicedMs = SYLLABLE_MS - DIP_MS;
  if (u >= voicedMs && (n * 1000) / rate - (ms - u + SYLLABLE_MS) >= 100) return 0.05;
  return 0.7 + 0.3 * Math.sin((Math.PI * Math.min(u, voicedMs)) / voicedMs);
}
