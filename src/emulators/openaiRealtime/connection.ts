/**
 * One emulated Realtime session on one WebSocket: parses client events, keeps the session object, the input
 * buffer, the conversation and the responses, and sends server events. Bad client events get an `error` event
 * (with the client's `event_id` echoed) and the session goes on.
 */
import type { WebSocket } from 'ws';
import type { Brain, BrainSession } from '../../agent/brain.js';
import type { Logger } from '../../log.js';
import { type IdleTimer, idleTimer } from '../harness.js';
import {
  clientEventId,
  type ItemInput,
  type ParsedClientEvent,
  parseClientEvent,
  type ResponseParams,
} from './clientEvents.js';
import { Conversation, type StoredItem } from './conversation.js';
import { InputAudio } from './inputAudio.js';
import { checkTruncate, clientItem, itemWithAudio, notFound, truncateItem, userAudioItem } from './items.js';
import { ClientEventError, OpenAIErrorCodes, type ServerEventBody, type WireError } from './protocol.js';
import { ResponseRun } from './response.js';
import { applySessionPatch, defaultSession, mediaFormat, type SessionState } from './sessionConfig.js';
import { UserTranscripts } from './transcripts.js';
import { responseSetup, vadSettings } from './turns.js';

export interface ConnectionLimits {
  readonly maxInputBufferMs: number;
  /** 0 disables. */
  readonly idleTimeoutMs: number;
  readonly maxSessionMs: number;
}

export interface ConnectionOptions {
  readonly ws: WebSocket;
  readonly brain: Brain;
  readonly model: string;
  readonly newId: (prefix: string) => string;
  readonly limits: ConnectionLimits;
  readonly pacing: { readonly chunkMs: number; readonly speed: number };
  readonly log: Logger;
  /** Tap: every valid client event, after validation and before it is handled. */
  readonly onClientEvent?: (sessionId: string, event: ParsedClientEvent) => void;
  /** Tap: every server event as it is sent (with its `event_id`). */
  readonly onServerEvent?: (sessionId: string, event: Readonly<Record<string, unknown>>) => void;
}

/** Close codes the emulator uses besides ws's own (1009 for an oversized message). */
export const CloseCodes = { normal: 1000, goingAway: 1001, betaShape: 4000 } as const;

const MIN_COMMIT_MS = 100;

export class RealtimeConnection {
  readonly #ws: WebSocket;
  readonly #log: Logger;
  readonly #newId: (prefix: string) => string;
  readonly #opts: ConnectionOptions;
  readonly #session: SessionState;
  readonly #brain: BrainSession;
  readonly #conversation = new Conversation();
  readonly #conversationId: string;
  readonly #input: InputAudio;
  /** The response in the default conversation (at most one). */
  #active: ResponseRun | null = null;
  readonly #outOfBand = new Set<ResponseRun>();
  /** The user item id announced by `speech_started`, used when speech stops. */
  #speechItemId: string | null = null;
  #speechStartMs = 0;
  #audioProduced = false;
  readonly #transcripts: UserTranscripts;
  readonly #idle: IdleTimer;
  readonly #expiryTimer: NodeJS.Timeout;
  #closed = false;
  /** Aborted when the session ends: stops brain work that belongs to no response. */
  readonly #closing = new AbortController();

  constructor(options: ConnectionOptions) {
    this.#opts = options;
    this.#ws = options.ws;
    this.#newId = options.newId;
    const id = options.newId('sess');
    this.#log = options.log.child({ sessionId: id });
    this.#session = defaultSession(id, options.model, Date.now(), options.limits.maxSessionMs);
    this.#conversationId = options.newId('conv');
    this.#input = new InputAudio(
      mediaFormat(this.#session.audio.input.format),
      options.limits.maxInputBufferMs,
    );
    this.#brain = options.brain.openSession({ sessionId: id });
    this.#transcripts = new UserTranscripts({
      send: (e) => this.#send(e),
      conversation: this.#conversation,
      session: this.#session,
      brain: this.#brain,
      closing: this.#closing.signal,
      log: this.#log,
    });
    this.#configureVad(); // after the last step that may throw: the detector is freed by #teardown
    this.#ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#ws.on('close', () => this.#teardown());
    this.#ws.on('error', (err) => this.#log.debug({ err }, 'socket error'));
    this.#expiryTimer = setTimeout(() => this.#expire(), options.limits.maxSessionMs);
    this.#expiryTimer.unref();
    this.#idle = idleTimer(options.limits.idleTimeoutMs, () =>
      this.#endWith(
        OpenAIErrorCodes.idleTimeout,
        `No client event for ${options.limits.idleTimeoutMs} ms; closing the session.`,
      ),
    );
    this.#log.info({ model: options.model, brain: options.brain.name }, 'realtime session opened');
    this.#send({ type: 'session.created', session: this.#session });
  }

  /** Sends an event with a fresh `event_id`. */
  #send(event: ServerEventBody): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    const sent = { event_id: this.#newId('event'), ...event };
    this.#ws.send(JSON.stringify(sent));
    const tap = this.#opts.onServerEvent;
    if (tap === undefined) return;
    try {
      tap(this.#session.id, sent);
    } catch (err) {
      this.#log.warn({ err }, 'onServerEvent tap threw; ignored');
    }
  }

  #sendError(err: ClientEventError, clientEventIdValue: string | null): void {
    const error: WireError = {
      type: 'invalid_request_error',
      code: err.code,
      message: err.message,
      param: err.param,
      event_id: clientEventIdValue,
    };
    this.#log.debug({ code: err.code, param: err.param }, 'client event rejected');
    this.#send({ type: 'error', error });
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    this.#idle.touch();
    let raw: unknown;
    try {
      if (isBinary) throw new SyntaxError('binary frame');
      raw = JSON.parse(String(data));
    } catch {
      this.#sendError(
        new ClientEventError(
          OpenAIErrorCodes.invalidJson,
          'The event could not be parsed as JSON (send one JSON object per text message).',
        ),
        null,
      );
      return;
    }
    const eventId = clientEventId(raw);
    try {
      const event = parseClientEvent(raw);
      this.#tap(event);
      this.#dispatch(event);
    } catch (err) {
      if (err instanceof ClientEventError) this.#sendError(err, eventId);
      else {
        this.#log.error({ err }, 'emulator failed on a client event');
        this.#send({
          type: 'error',
          error: {
            type: 'server_error',
            code: 'server_error',
            message: 'The emulator failed.',
            param: null,
            event_id: eventId,
          },
        });
      }
    }
  }

  #tap(event: ParsedClientEvent): void {
    try {
      this.#opts.onClientEvent?.(this.#session.id, event);
    } catch (err) {
      this.#log.warn({ err }, 'onClientEvent tap threw; ignored');
    }
  }

  #dispatch(event: ParsedClientEvent): void {
    switch (event.type) {
      case 'session.update': {
        const change = applySessionPatch(this.#session, event.session, this.#audioProduced);
        if (change.inputFormat) this.#input.setFormat(mediaFormat(this.#session.audio.input.format));
        if (change.inputFormat || change.turnDetection) this.#configureVad();
        this.#send({ type: 'session.updated', session: this.#session });
        return;
      }
      case 'input_audio_buffer.append':
        this.#append(event.audio);
        return;
      case 'input_audio_buffer.commit':
        this.#manualCommit();
        return;
      case 'input_audio_buffer.clear':
        this.#input.clear();
        this.#speechItemId = null;
        this.#send({ type: 'input_audio_buffer.cleared' });
        return;
      case 'output_audio_buffer.clear':
        throw new ClientEventError(
          OpenAIErrorCodes.notSupported,
          'output_audio_buffer.clear is only supported for WebRTC and SIP sessions.',
          'type',
        );
      case 'conversation.item.create':
        this.#createItem(event.item, event.previous_item_id);
        return;
      case 'conversation.item.retrieve':
        this.#send({ type: 'conversation.item.retrieved', item: itemWithAudio(this.#item(event.item_id)) });
        return;
      case 'conversation.item.truncate':
        this.#truncate(event.item_id, event.content_index, event.audio_end_ms);
        return;
      case 'conversation.item.delete':
        if (!this.#conversation.delete(event.item_id)) throw notFound(event.item_id);
        this.#send({ type: 'conversation.item.deleted', item_id: event.item_id });
        return;
      case 'response.create':
        this.#createResponse(event.response ?? {});
        return;
      case 'response.cancel':
        this.#cancel(event.response_id);
        return;
    }
  }

  #append(base64: string): void {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length === 0 && base64.length > 0) {
      throw new ClientEventError(OpenAIErrorCodes.invalidValue, 'Invalid base64 audio.', 'audio');
    }
    for (const event of this.#input.append(bytes)) {
      const td = this.#session.audio.input.turn_detection;
      if (td === null) break;
      if (event.type === 'speech_started') {
        this.#speechItemId = this.#newId('item');
        this.#speechStartMs = Math.max(this.#input.startMs, event.atMs - vadSettings(td).prefixMs);
        this.#send({
          type: 'input_audio_buffer.speech_started',
          audio_start_ms: Math.round(this.#speechStartMs),
          item_id: this.#speechItemId,
        });
        if (td.interrupt_response && this.#active !== null) this.#active.cancel('turn_detected');
      } else {
        const itemId = this.#speechItemId ?? this.#newId('item');
        this.#speechItemId = null;
        // `audio_end_ms` includes the silence that ended the turn (the typings say so), as does the item.
        this.#send({
          type: 'input_audio_buffer.speech_stopped',
          audio_end_ms: Math.round(event.detectedAtMs),
          item_id: itemId,
        });
        const stored = this.#commit(itemId, this.#speechStartMs, event.detectedAtMs);
        if (td.create_response && this.#active === null) this.#createResponse({});
        else this.#transcripts.later(stored);
      }
    }
    this.#input.trimIdle();
  }

  #manualCommit(): void {
    const held = this.#input.heldMs;
    if (held < MIN_COMMIT_MS) {
      throw new ClientEventError(
        OpenAIErrorCodes.commitEmpty,
        `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${held.toFixed(2)}ms of audio.`,
      );
    }
    const itemId = this.#speechItemId ?? this.#newId('item');
    this.#speechItemId = null;
    const stored = this.#commit(itemId, this.#input.startMs, this.#input.endMs);
    this.#configureVad();
    this.#transcripts.later(stored);
  }

  /** Moves [fromMs, toMs) of the input buffer into a user audio item. */
  #commit(itemId: string, fromMs: number, toMs: number): StoredItem {
    const stored = userAudioItem(itemId, this.#input.take(fromMs, toMs), this.#input);
    const previousId = this.#conversation.insert(stored);
    this.#send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previousId });
    this.#announce(stored, previousId);
    return stored;
  }

  #createItem(input: ItemInput, previousItemId: string | null | undefined): void {
    const stored = clientItem(input, this.#newId, this.#input.format);
    this.#announce(stored, this.#conversation.insert(stored, previousItemId));
  }

  #announce(stored: StoredItem, previousId: string | null): void {
    this.#send({
      type: 'conversation.item.added',
      item: structuredClone(stored.item),
      previous_item_id: previousId,
    });
    this.#send({
      type: 'conversation.item.done',
      item: structuredClone(stored.item),
      previous_item_id: previousId,
    });
  }

  #truncate(itemId: string, contentIndex: number, audioEndMs: number): void {
    const stored = this.#item(itemId);
    const haveMs = checkTruncate(stored, contentIndex, audioEndMs);
    // Truncating audio that is still being generated stops the generation first.
    if (stored.item.status === 'in_progress') this.#active?.cancel('client_cancelled');
    truncateItem(stored, audioEndMs, haveMs);
    this.#send({
      type: 'conversation.item.truncated',
      item_id: itemId,
      content_index: contentIndex,
      audio_end_ms: audioEndMs,
    });
  }

  #createResponse(params: ResponseParams): void {
    const inConversation = params.conversation === undefined || params.conversation === 'auto';
    if (inConversation && this.#active !== null) {
      throw new ClientEventError(
        OpenAIErrorCodes.activeResponse,
        `Conversation already has an active response in progress: ${this.#active.id}. Wait until the response is finished before creating a new one.`,
      );
    }
    const setup = responseSetup(this.#session, params, this.#conversation, {
      id: this.#newId('resp'),
      conversationId: inConversation ? this.#conversationId : null,
      pacing: this.#opts.pacing,
    });
    const run = new ResponseRun(
      {
        send: (e) => this.#send(e),
        newId: this.#newId,
        conversation: this.#conversation,
        log: this.#log,
        userTranscript: (id, text) => this.#transcripts.deliver(id, text),
        audioProduced: () => {
          this.#audioProduced = true;
        },
        finished: (r) => {
          if (this.#active === r) this.#active = null;
          this.#outOfBand.delete(r);
        },
      },
      setup,
    );
    if (inConversation) this.#active = run;
    else this.#outOfBand.add(run);
    run.start(this.#brain);
  }

  #cancel(responseId: string | undefined): void {
    const target =
      responseId === undefined
        ? this.#active
        : ([this.#active, ...this.#outOfBand].find((r) => r?.id === responseId) ?? null);
    if (target === null || !target.cancel('client_cancelled')) {
      throw new ClientEventError(
        OpenAIErrorCodes.cancelNotActive,
        'Cancellation failed: no active response found',
      );
    }
  }

  #item(itemId: string): StoredItem {
    const stored = this.#conversation.get(itemId);
    if (stored === undefined) throw notFound(itemId);
    return stored;
  }

  #configureVad(): void {
    const td = this.#session.audio.input.turn_detection;
    this.#speechItemId = null;
    this.#input.setVad(td === null ? null : vadSettings(td));
  }

  #expire(): void {
    this.#endWith(
      OpenAIErrorCodes.sessionExpired,
      `Your session hit the maximum duration of ${Math.round(this.#opts.limits.maxSessionMs / 60000)} minutes.`,
    );
  }

  #endWith(code: string, message: string): void {
    if (this.#closed) return;
    this.#log.info({ code }, 'realtime session ended by the emulator');
    this.#send({
      type: 'error',
      error: { type: 'invalid_request_error', code, message, param: null, event_id: null },
    });
    this.#ws.close(CloseCodes.normal, code);
    this.#teardown();
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#idle.stop();
    clearTimeout(this.#expiryTimer);
    this.#active?.abandon();
    for (const r of this.#outOfBand) r.abandon();
    this.#brain.close();
    this.#input.close();
    this.#log.info({ items: this.#conversation.size }, 'realtime session closed');
  }
}
