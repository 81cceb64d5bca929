/**
 * Per-connection bookkeeping of the OpenAI transport: the response queue and the playback estimate used to
 * truncate an interrupted answer. Both are reset when the connection goes.
 */
import { audioDurationMs } from './openaiRealtimeProtocol.js';

/**
 * One `response.create` at a time. The Realtime API allows one active response per conversation; a create sent
 * while one runs fails with `conversation_already_has_active_response`. So creates wait until the server has
 * finished (`response.done`) and the previous create was accepted (`response.created`) or refused (an `error`
 * naming its event_id, or about response.create). Repeated automatic requests (after tool outputs) coalesce
 * into one; explicit ones each get their own response.
 */
type CreateEvent = { type: string; event_id?: string };

export class ResponseQueue {
  readonly #send: (event: CreateEvent) => void;
  #active = false;
  #pendingId: string | null = null;
  #cancelRequested = false;
  #queue: { event: CreateEvent; manual: boolean }[] = [];
  #counter = 0;

  constructor(send: (event: CreateEvent) => void) {
    this.#send = send;
  }

  /** A response is being generated (between `response.created` and `response.done`). */
  get active(): boolean {
    return this.#active;
  }

  request(event: CreateEvent, manual: boolean): void {
    if (!manual && this.#queue.some((q) => !q.manual)) return;
    this.#queue.push({ event, manual });
    this.#flush();
  }

  /** True (and remembered) when a cancel should be sent now: a response runs and no cancel is on its way. */
  beginCancel(): boolean {
    if (!this.#active || this.#cancelRequested) return false;
    this.#cancelRequested = true;
    return true;
  }

  onResponseCreated(): void {
    this.#active = true;
    this.#pendingId = null;
    this.#cancelRequested = false;
  }

  onResponseDone(): void {
    this.#active = false;
    this.#pendingId = null;
    this.#cancelRequested = false;
    this.#flush();
  }

  /** An `error` event's `error` object: frees the slot when it refused our pending create. */
  onError(error: unknown): void {
    if (this.#pendingId === null) return;
    const e = (error ?? {}) as { event_id?: unknown; code?: unknown; message?: unknown };
    const aboutCreate =
      e.event_id === this.#pendingId ||
      (e.event_id == null &&
        (String(e.code ?? '').includes('response_create') ||
          String(e.message ?? '').includes('response.create')));
    if (!aboutCreate) return;
    this.#pendingId = null;
    this.#flush();
  }

  /** The connection is gone: nothing is pending any more. */
  reset(): void {
    this.#active = false;
    this.#pendingId = null;
    this.#cancelRequested = false;
    this.#queue = [];
  }

  #flush(): void {
    if (this.#active || this.#pendingId !== null) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    const eventId =
      typeof next.event.event_id === 'string'
        ? next.event.event_id
        : `voxgate_response_create_${++this.#counter}`;
    this.#pendingId = eventId;
    this.#send({ ...next.event, event_id: eventId });
  }
}

/**
 * How much of the current assistant item the listener has heard, as the reference client estimates it: playback
 * is assumed to start with the first audio delta and run in real time, bounded by the audio received.
 */
export class PlaybackEstimate {
  itemId: string | undefined;
  contentIndex: number | undefined;
  /** `Date.now()` at the item's first delta. */
  firstAudioAt: number | undefined;
  /** Audio received for the item, ms. */
  lengthMs = 0;
  /** `response.output_audio.done` arrived: no more audio for the item. */
  generationDone = false;
  /** Output format per response (`response.created`), falling back to the session's. */
  readonly #formats = new Map<string, unknown>();

  onResponseCreated(responseId: string, format: unknown): void {
    this.#formats.set(responseId, format);
  }

  onResponseDone(responseId: string): void {
    this.#formats.delete(responseId);
  }

  /** A delta of `bytes` for (itemId, contentIndex); a new item restarts the estimate. */
  onDelta(
    itemId: string,
    contentIndex: number,
    responseId: string,
    bytes: number,
    sessionFormat: unknown,
  ): void {
    if (this.itemId !== itemId || this.contentIndex !== contentIndex) this.reset();
    this.itemId = itemId;
    this.contentIndex = contentIndex;
    this.firstAudioAt ??= Date.now();
    this.lengthMs += audioDurationMs(bytes, this.#formats.get(responseId) ?? sessionFormat);
  }

  reset(): void {
    this.itemId = undefined;
    this.contentIndex = undefined;
    this.firstAudioAt = undefined;
    this.lengthMs = 0;
    this.generationDone = false;
  }

  /** The connection is gone. */
  clear(): void {
    this.reset();
    this.#formats.clear();
  }
}
