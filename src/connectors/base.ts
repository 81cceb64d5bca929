/**
 * The one shared connector base, vendor-free: a typed emitter, and the media-unit side of a VoxEngine-style client
 * (`VoiceAIClient`), on the socket lifecycle of connectorSocket.ts. A vendor file (openaiRealtime*.ts, later
 * ultravox.ts) holds only the mapping between its wire protocol and these.
 */
import { ErrorCodes, UsageError, type VoxgateError } from '../errors.js';
import { frameClock } from '../graph/clock.js';
import { PacedStream } from '../graph/paced.js';
import { type Link, MediaUnit, type SendMediaOptions } from '../graph/unit.js';
import { createLogger, type Logger } from '../log.js';
import type { AudioFormat } from '../media/format.js';
import { bytesPerSample } from '../media/format.js';
import type { PlayoutOptions } from '../media/playout.js';
import { ConnectorSocket, newConnectorStats, type SocketCloseInfo } from './connectorSocket.js';
import type { ConnectorCloseEvent, ConnectorEvent, ConnectorMediaEvent, EventArgs } from './types.js';

type Listener = (...args: never[]) => unknown;

/**
 * A minimal typed emitter: `on/off/once/emit` over the event map `M`. A listener that throws is logged and the
 * others still run, so one bad listener cannot break the socket's message loop.
 */
export class TypedEmitter<M> {
  readonly #listeners = new Map<string | number, Listener[]>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  on<K extends string | number>(type: K, listener: (...args: EventArgs<M, K>) => void): this {
    const list = this.#listeners.get(type);
    if (list === undefined) this.#listeners.set(type, [listener as Listener]);
    else list.push(listener as Listener);
    return this;
  }

  off<K extends string | number>(type: K, listener: (...args: EventArgs<M, K>) => void): this {
    const list = this.#listeners.get(type);
    if (list === undefined) return this;
    const index = list.findIndex(
      (l) => l === listener || (l as { listener?: unknown }).listener === listener,
    );
    if (index >= 0) list.splice(index, 1);
    return this;
  }

  once<K extends string | number>(type: K, listener: (...args: EventArgs<M, K>) => void): this {
    const wrapper = (...args: EventArgs<M, K>): void => {
      this.off(type, wrapper);
      listener(...args);
    };
    (wrapper as { listener?: unknown }).listener = listener;
    return this.on(type, wrapper);
  }

  emit<K extends string | number>(type: K, ...args: EventArgs<M, K>): boolean {
    const list = this.#listeners.get(type);
    if (list === undefined || list.length === 0) return false;
    for (const listener of list.slice()) {
      try {
        (listener as (...a: unknown[]) => unknown).apply(this, args as unknown[]);
      } catch (err) {
        this.#log.warn({ event: String(type), err }, 'connector listener threw');
      }
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Connects `client` and resolves to it; a failed connect closes it and rethrows the coded error. */
export async function connected<C extends { connect(): Promise<void>; close(): void }>(
  client: C,
): Promise<C> {
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** How a handler is called; the scenario runtime passes its safe emit (session context, error reporting). */
export type Deliver = (handler: (event: never) => unknown, event: unknown, eventName: string) => void;

type Handler = (event: never) => unknown;

export interface VoiceAIClientOptions {
  /** Unit id prefix and log tag, e.g. `'openai-realtime'`. */
  kind: string;
  /** The vendor's media event names (`'OpenAI.Events.WebSocketMediaStarted'`, ...). */
  mediaEvents: { started: string; ended: string };
  /** What the provider takes and sends until the vendor says otherwise. */
  inputFormat: AudioFormat;
  outputFormat: AudioFormat;
  playout?: PlayoutOptions | undefined;
  /** Called once when the socket closes after it was open (the vendor's parameters type its event). */
  onWebSocketClose?: Handler | undefined;
  deliver?: Deliver | undefined;
  log?: Logger | undefined;
}

/**
 * A provider client that is a media unit (VoxEngine's connector shape). Provider audio is paced out on the
 * process clock to the units attached with sendMediaTo; `clearMediaBuffer()` drops what is not yet played; the
 * samples really played are counted (the truth for truncation). Events reach scenario handlers as
 * `{client, data: {customEvent, payload}}`, through the injected safe emit.
 */
export abstract class VoiceAIClient<M extends object = Record<string, unknown>> extends MediaUnit {
  readonly stats = newConnectorStats();
  protected readonly log: Logger;
  protected readonly socket: ConnectorSocket;
  readonly #options: VoiceAIClientOptions;
  readonly #handlers = new Map<string, Handler[]>();
  #inputFormat: AudioFormat;
  #paced: PacedStream | null = null;
  /** Samples pushed to the paced stream that it still plays or has played (clears and overflow removed). */
  #pushed = 0;
  #segmentStart = 0;
  #startedAt = 0;
  #closed = false;
  /** A unit has been sent this client's audio at least once (until then provider audio is held). */
  #linked = false;
  readonly #sink = (frame: Uint8Array): void => this.emitMedia(frame, this.#paced!.format);

  constructor(options: VoiceAIClientOptions) {
    super(options.kind);
    this.#options = options;
    this.#inputFormat = options.inputFormat;
    this.log = (options.log ?? createLogger({})).child({ connector: options.kind, unit: this.unitId });
    this.socket = new ConnectorSocket(
      {
        message: (data, isBinary) => this.onSocketMessage(data, isBinary),
        close: (info) => this.#onClose(info),
      },
      this.stats,
    );
    this.setOutputFormat(options.outputFormat);
  }

  /** The client's id. */
  id(): string {
    return this.unitId;
  }

  /** The id of the client's WebSocket to the provider. */
  webSocketId(): string {
    return `${this.unitId}-ws`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a handler; anything but a function is refused here, with VG_ERR_BAD_HANDLER. */
  addEventListener<K extends keyof M & string>(event: K, handler: (event: M[K]) => unknown): void {
    if (typeof event !== 'string' || event === '') {
      throw new UsageError(ErrorCodes.BAD_ARGUMENT, 'addEventListener: the event must be a non-empty string');
    }
    if (typeof handler !== 'function') {
      const got = handler === null ? 'null' : typeof handler;
      const message = `addEventListener('${event}', …): the handler must be a function, got ${got}`;
      throw new UsageError(ErrorCodes.BAD_HANDLER, message, { details: { event } });
    }
    const list = this.#handlers.get(event) ?? [];
    if (!list.includes(handler as Handler)) list.push(handler as Handler);
    this.#handlers.set(event, list);
  }

  /** Removes `handler`, or every handler of `event` when none is given. */
  removeEventListener<K extends keyof M & string>(event: K, handler?: (event: M[K]) => unknown): void {
    if (handler === undefined) {
      this.#handlers.delete(event);
      return;
    }
    const list = this.#handlers.get(event);
    const index = list?.indexOf(handler as Handler) ?? -1;
    if (index >= 0) list!.splice(index, 1);
  }

  /** Drops provider audio not yet played, here and in the units it feeds; the leg is silent on the next tick. */
  clearMediaBuffer(_parameters?: { tag?: string }): void {
    const paced = this.#paced;
    if (paced !== null) {
      this.stats.framesCleared += paced.clear();
      this.#pushed = paced.buffer.playedSamples;
    }
    this.clearOutputs();
  }

  /** Closes the socket and the audio, detaches every link. Idempotent; `onWebSocketClose` fires once. */
  close(): void {
    this.socket.close(1000, '');
    this.#shutdown(undefined);
  }

  /** @internal What the provider takes: links into the client convert to it. */
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return this.#inputFormat;
  }

  protected abstract onSocketMessage(data: Buffer, isBinary: boolean): void;

  /** Vendor hook: the socket closed (before the client shuts down its audio). */
  protected onSocketClosed(_info: SocketCloseInfo): void {}

  /** Delivers `{client, data}` (or a media event) to the handlers of `event`. */
  protected dispatch(event: string, payload: ConnectorEvent<this> | ConnectorMediaEvent<this>): void {
    const list = this.#handlers.get(event);
    if (list === undefined) return;
    for (const handler of list.slice()) this.#deliver(handler, payload, event);
  }

  /** Dispatches a coded error as `event` (`payload`: what the provider sent, or the error's JSON). */
  protected reportError(event: string, customEvent: string, payload: unknown, error: VoxgateError): void {
    this.log.warn({ code: error.code, event: customEvent, err: error }, 'connector error');
    this.dispatch(event, { client: this, data: { customEvent, payload, error } });
  }

  /** The format of a peer unit, judged by what it accepts (a call leg accepts its own format); null if none. */
  protected peerFormat(peer: MediaUnit, options: Readonly<SendMediaOptions>): AudioFormat | null {
    try {
      return peer.inputFormat(options);
    } catch {
      return null;
    }
  }

  /**
   * Sets what the provider takes. An inbound link made before carries the old format: it is remade once, right
   * after the current call stack (never inside the attach that may have triggered the change).
   */
  protected setInputFormat(format: AudioFormat): void {
    this.#inputFormat = format;
    const link = this.input;
    if (link === null || link.targetFormat === format) return;
    queueMicrotask(() => this.#relink(link));
  }

  #relink(link: Link): void {
    if (this.input === link && !this.#closed && link.targetFormat !== this.#inputFormat) {
      link.source.sendMediaTo(this, link.options);
    }
  }

  override sendMediaTo(target: MediaUnit, options: SendMediaOptions = {}): void {
    super.sendMediaTo(target, options);
    this.#linked = true;
    this.#paced?.resume();
  }

  protected get outputFormat(): AudioFormat {
    return this.#paced!.format;
  }

  /** Sets the format of provider audio; a change drops what is queued in the old format. */
  protected setOutputFormat(format: AudioFormat): void {
    if (this.#paced?.format === format || this.#closed) return;
    this.#paced?.close();
    this.#pushed = 0;
    this.#segmentStart = 0;
    const { started, ended } = this.#options.mediaEvents;
    // Provider audio leaves as it arrives while the caller holds no more than the lead, and audio up to the clock's
    // catch-up (200 ms) late is owed, not paced: a provider that streams at 1x speed adds no standing queue here.
    // Audio that comes before the client is first linked waits for that link: a provider may start talking while
    // the scenario is still between `await createClient()` and `sendMediaBetween` (in the same socket read as the
    // handshake, even), and a greeting must not play to nobody.
    const playout = {
      releaseOnPush: true,
      jitterFrames: frameClock.maxCatchUp,
      held: !this.#linked,
      ...this.#options.playout,
    };
    const paced: PacedStream = new PacedStream(format, this.#sink, playout, {
      onStart: () => {
        this.#startedAt = paced.buffer.playedSamples;
        this.#mediaEvent(started, { client: this });
      },
      onEnd: () => {
        const duration = Math.round(
          ((paced.buffer.playedSamples - this.#startedAt) / format.sampleRate) * 1000,
        );
        this.#mediaEvent(ended, { client: this, mediaInfo: { duration } });
      },
    });
    this.#paced = paced;
  }

  /**
   * Queues provider audio (any size) for paced playout. Takes `chunk` over: callers pass audio they decoded or
   * received and will not touch again, so a one-frame chunk goes out without a copy.
   */
  protected playAudio(chunk: Uint8Array): void {
    const paced = this.#paced;
    if (paced === null || this.#closed) return;
    const droppedBefore = paced.buffer.droppedFrames;
    paced.push(chunk, true);
    this.#pushed += chunk.length / bytesPerSample(paced.format.encoding);
    const dropped = paced.buffer.droppedFrames - droppedBefore;
    if (dropped > 0) this.#pushed -= (dropped * paced.format.sampleRate * paced.buffer.frameMs) / 1000;
  }

  /** The provider finished this stream: what is queued still plays, then the media-ended event fires. */
  protected endAudio(): void {
    this.#paced?.end();
  }

  /** Starts a playback segment (e.g. a model's reply item) at the end of what is queued now. */
  protected markSegment(): void {
    this.#segmentStart = this.#pushed;
  }

  /** Milliseconds of the current segment the units were actually sent, and how much of it was queued. */
  protected segmentProgress(): { playedMs: number; queuedMs: number } {
    const paced = this.#paced!;
    const total = Math.max(0, this.#pushed - this.#segmentStart);
    const played = Math.min(Math.max(0, paced.buffer.playedSamples - this.#segmentStart), total);
    const rate = paced.format.sampleRate;
    return { playedMs: (played / rate) * 1000, queuedMs: (total / rate) * 1000 };
  }

  #mediaEvent(event: string, payload: ConnectorMediaEvent<this>): void {
    // Out of the clock tick: scenario code never runs inside the 20 ms loop that paces every call.
    queueMicrotask(() => {
      if (!this.#closed) this.dispatch(event, payload);
    });
  }

  #deliver(handler: Handler, payload: unknown, event: string): void {
    const deliver = this.#options.deliver;
    if (deliver !== undefined) {
      deliver(handler, payload, event);
      return;
    }
    try {
      const result = (handler as (e: unknown) => unknown).call(this, payload);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, (err: unknown) => this.#handlerThrew(event, err));
      }
    } catch (err) {
      this.#handlerThrew(event, err);
    }
  }

  #handlerThrew(event: string, err: unknown): void {
    this.log.warn({ code: ErrorCodes.HANDLER_THREW, event, err }, 'connector event handler threw');
  }

  #onClose(info: SocketCloseInfo): void {
    if (!info.byUs)
      this.log.info({ code: info.code, errorCode: info.error?.code }, 'provider connection closed');
    this.onSocketClosed(info);
    this.#shutdown(info);
  }

  #shutdown(info: SocketCloseInfo | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#paced?.close();
    this.detachAll();
    const onClose = this.#options.onWebSocketClose;
    // A connection that never opened is reported by the rejected connect, not as a close.
    if (onClose === undefined || this.stats.connectMs < 0) return;
    const closeInfo = info ?? (this.socket.state.status === 'closed' ? this.socket.state.info : undefined);
    const event: ConnectorCloseEvent<this> = {
      client: this,
      code: closeInfo?.code ?? 1000,
      reason: closeInfo?.reason ?? '',
      wasClean: closeInfo?.wasClean ?? true,
      ...(closeInfo?.error ? { error: closeInfo.error } : {}),
    };
    this.#deliver(onClose, event, 'onWebSocketClose');
  }
}
