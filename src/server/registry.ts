import type { CallEndReason } from '../transports/types.js';
import { secretMatches } from './auth.js';

/**
 * Call records: what `GET /call/:id` shows and what authorises a call's socket. The interface is async so a
 * shared store (Redis, for several gateways behind one balancer) can implement it later; live objects (sockets,
 * sessions) never go in here, only data. The in-memory store is the single-machine default.
 */

/** Vapi's statuses: `ringing` from the socket opening until the scenario answers. */
export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'ended';
export type WireAudioFormat = { format: 'pcm_s16le' | 'mulaw'; container: 'raw'; sampleRate: number };

/** One line of the conversation, in Vapi's `artifact.messages` shape. */
export interface CallMessage {
  role: 'user' | 'bot' | 'system';
  message: string;
  /** Epoch milliseconds. */
  time: number;
  secondsFromStart: number;
}

export interface CallStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  framesDropped: number;
  framesRefused: number;
}

export interface CallRecord {
  id: string;
  type: 'vapi.websocketCall';
  status: CallStatus;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  endedReason?: CallEndReason;
  assistantId?: string;
  /** The scenario the call runs (a built-in name or a path). */
  scenario: string;
  metadata?: Record<string, unknown>;
  transport: { provider: 'vapi.websocket'; audioFormat: WireAudioFormat };
  messages: CallMessage[];
  stats?: CallStats;
  /** SHA-256 of the socket token; the token itself is only ever in the create response. */
  tokenHash: Buffer;
  /** Epoch ms after which the token no longer opens the socket. */
  tokenExpiresAt: number;
  tokenUsed: boolean;
}

export type TokenClaim = 'ok' | 'bad' | 'used' | 'expired' | 'ended';

export interface CallRegistry {
  create(record: CallRecord): Promise<void>;
  get(id: string): Promise<Readonly<CallRecord> | undefined>;
  /** The most recent calls first. */
  list(limit: number): Promise<Readonly<CallRecord>[]>;
  /** Merges `patch` into the record and stamps `updatedAt`; undefined when there is no such call. */
  update(id: string, patch: Partial<CallRecord>): Promise<Readonly<CallRecord> | undefined>;
  appendMessage(id: string, message: CallMessage): Promise<void>;
  /**
   * Uses a call's socket token, atomically: `ok` once for the right, unexpired token of a queued call; then
   * `used`. An unknown call and a wrong token both give `bad`, so ids cannot be probed; `ended` is a call ended
   * (over the API) before its socket opened.
   */
  claimToken(id: string, token: string, now: number): Promise<TokenClaim>;
}

export class MemoryCallRegistry implements CallRegistry {
  readonly #calls = new Map<string, CallRecord>();
  /** Ids of ended calls, oldest first, for eviction past `history`. */
  readonly #ended: string[] = [];
  readonly #history: number;

  constructor(history = 1000) {
    this.#history = history;
  }

  async create(record: CallRecord): Promise<void> {
    this.#calls.set(record.id, record);
  }

  async get(id: string): Promise<Readonly<CallRecord> | undefined> {
    return this.#calls.get(id);
  }

  async list(limit: number): Promise<Readonly<CallRecord>[]> {
    const all = [...this.#calls.values()];
    return all.slice(Math.max(0, all.length - limit)).reverse();
  }

  async update(id: string, patch: Partial<CallRecord>): Promise<Readonly<CallRecord> | undefined> {
    const record = this.#calls.get(id);
    if (record === undefined) return undefined;
    const wasEnded = record.status === 'ended';
    Object.assign(record, patch, { updatedAt: new Date().toISOString() });
    if (!wasEnded && record.status === 'ended') this.#retire(id);
    return record;
  }

  async appendMessage(id: string, message: CallMessage): Promise<void> {
    this.#calls.get(id)?.messages.push(message);
  }

  async claimToken(id: string, token: string, now: number): Promise<TokenClaim> {
    const record = this.#calls.get(id);
    if (record === undefined || !secretMatches(token, record.tokenHash)) return 'bad';
    if (record.tokenUsed) return 'used';
    if (now > record.tokenExpiresAt) return 'expired';
    if (record.status === 'ended') return 'ended';
    record.tokenUsed = true;
    return 'ok';
  }

  #retire(id: string): void {
    this.#ended.push(id);
    while (this.#ended.length > this.#history) this.#calls.delete(this.#ended.shift()!);
  }
}
