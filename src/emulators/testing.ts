/**
 * Test helpers for the emulators: a raw WebSocket client that reads server events in order, and a check of
 * server events against the official `@openai/agents-realtime` client's own zod schemas (dev dependency, loaded
 * lazily by file path because the package does not export them).
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
