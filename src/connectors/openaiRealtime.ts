/**
 * `OpenAIRealtimeWebSocket`: voxgate's transport to the OpenAI Realtime API (GA) over a WebSocket, with the public
 * API and behaviour of `@openai/agents-realtime`'s class of the same name, so an agents-js `RealtimeSession` runs on
 * top of it unchanged. The socket lifecycle is connectorSocket.ts's; this file maps the protocol.
 */
import { ErrorCodes, UsageError, VoxgateError } from '../errors.js';
import { createLogger } from '../log.js';
import { ConnectorSocket, type SocketCloseInfo } from './connectorSocket.js';
import { type ClientMessage, OpenAIRealtimeBase } from './openaiRealtimeBase.js';
import { parseServerMessage, protocolError, readAudioDelta, translate } from './openaiRealtimeEvents.js';
import { decodeAudio, transportUrl } from './openaiRealtimeProtocol.js';
import { PlaybackEstimate, ResponseQueue } from './openaiRealtimeState.js';
import type {
  ConnectionStatus,
  OpenAIRealtimeWebSocketOptions,
  RealtimeSessionConfig,
  RealtimeTracingConfig,
  RealtimeTransportLayerConnectOptions,
  TransportEvent,
  TransportLayerAudio,
  WebSocketState,
} from './types.js';

export type { OpenAIRealtimeWebSocketOptions, WebSocketState } from './types.js';

type State =
  | { status: 'disconnected'; socket: null }
  | { status: 'connecting' | 'connected'; socket: ConnectorSocket };

type Session = {
  audio?: { input?: { turn_detection?: { interrupt_response?: unknown } }; output?: { format?: unknown } };
};

const USER_AGENT = 'voxgate/0.1 (OpenAIRealtimeWebSocket)';

/**
 * Transport layer between a client and the OpenAI Realtime API over WebSockets; usable standalone or as the
 * `transport` of an agents-js `RealtimeSession`.
 */
export class OpenAIRealtimeWebSocket extends OpenAIRealtimeBase {
  #url: string | undefined;
  readonly #options: OpenAIRealtimeWebSocketOptions;
  #state: State = { status: 'disconnected', socket: null };
  readonly #responses = new ResponseQueue((event) => this.#sendNow(event));
  readonly #playback = new PlaybackEstimate();
  #session: Session | null = null;
  #tracingConfig: RealtimeTracingConfig | null = null;

  constructor(options: OpenAIRealtimeWebSocketOptions = {}) {
    super(options, (options.log ?? createLogger({})).child({ connector: 'openai-realtime' }));
    this.#options = options;
    this.#url = options.url;
  }

  get status(): ConnectionStatus {
    return this.#state.status;
  }

  get connectionState(): WebSocketState {
    const state = this.#state;
    if (state.status === 'disconnected') return { status: 'disconnected', websocket: undefined };
    const s = state.socket.state;
    const websocket = s.status === 'open' || s.status === 'connecting' ? (s.ws ?? undefined) : undefined;
    return { status: state.status, websocket };
  }

  /** Always null: muting is the caller's job (do not call sendAudio). */
  get muted(): null {
    return null;
  }

  /** The tracing config the server reported in `session.created`. */
  set _tracingConfig(config: RealtimeTracingConfig | null) {
    this.#tracingConfig = config;
  }

  /** `Date.now()` at the first audio of the current item (for subclasses' interruption arithmetic). */
  protected get _firstAudioTimestamp(): number | undefined {
    return this.#playback.firstAudioAt;
  }

  protected get _audioLengthMs(): number {
    return this.#playback.lengthMs;
  }

  protected get currentItemId(): string | undefined {
    return this.#playback.itemId;
  }

  /** The last `session.updated` session, as sent by the server. */
  protected get _rawSessionConfig(): Record<string, unknown> | null {
    return this.#session as Record<string, unknown> | null;
  }

  /** Opens the socket; the initial `session.update` goes out as it opens. Resolves when open. */
  async connect(options: RealtimeTransportLayerConnectOptions): Promise<void> {
    if (this.#state.status !== 'disconnected') {
      throw new UsageError(ErrorCodes.INVALID_STATE, 'WebSocket is already connected or connecting.');
    }
    if (options.model !== undefined) this.currentModel = options.model;
    const apiKey = await this._getApiKey(options);
    if (apiKey === '') {
      const message = 'API key is not set. Please call `connect()` with an API key first.';
      throw new UsageError(ErrorCodes.BAD_ARGUMENT, message);
    }
    if (this.#state.status !== 'disconnected') {
      throw new UsageError(ErrorCodes.INVALID_STATE, 'WebSocket is already connected or connecting.');
    }
    if (options.url) this.#url = options.url;
    const url = transportUrl(options, this.#url, this.currentModel);
    const sessionConfig: Partial<RealtimeSessionConfig> = {
      ...options.initialSessionConfig,
      model: this.currentModel,
    };
    const socket: ConnectorSocket = new ConnectorSocket({
      open: () => this.#onOpen(socket, sessionConfig),
      message: (data) => this.#onMessage(socket, data, sessionConfig),
      close: (info) => this.#onClose(socket, info),
    });
    this.#state = { status: 'connecting', socket };
    this.emit('connection_change', 'connecting');
    const factory = this.#options.createWebSocket;
    try {
      await socket.open({
        url,
        headers: { Authorization: `Bearer ${apiKey}`, 'User-Agent': USER_AGENT },
        ...(this.#options.connectTimeoutMs === undefined
          ? {}
          : { connectTimeoutMs: this.#options.connectTimeoutMs }),
        ...(factory === undefined ? {} : { createWebSocket: () => factory({ url, apiKey }) }),
      });
    } catch (err) {
      this.#toDisconnected(socket);
      throw err;
    }
    if (this.#state.socket !== socket) {
      throw new VoxgateError(
        ErrorCodes.CONNECT_ABORTED,
        'WebSocket connection was closed before setup completed.',
      );
    }
  }

  /** Closes the connection and resets interruption tracking. Idempotent. */
  close(): void {
    const socket = this.#state.socket;
    if (socket === null) return;
    socket.close(1000, '');
    this.#toDisconnected(socket);
  }

  /** Sends one client event; `response.create` waits its turn (one response at a time). */
  sendEvent(event: ClientMessage): void {
    this.#assertConnected();
    if (event.type === 'response.create') {
      this.#responses.request(event, true);
      return;
    }
    if (event.type === 'response.cancel') this.#responses.beginCancel();
    this.#sendNow(event);
  }

  /** Asks for a response; deferred until the server has finished the current one. */
  override requestResponse(response?: Record<string, unknown>): void {
    this.#assertConnected();
    this.#responses.request(
      { type: 'response.create', ...(response ? { response } : {}) },
      response !== undefined,
    );
  }

  mute(_muted: boolean): never {
    throw new UsageError(
      ErrorCodes.INVALID_STATE,
      'Mute is not supported for the WebSocket transport. You have to mute the audio input yourself.',
    );
  }

  /** `input_audio_buffer.append` (+ `commit`); dropped unless connected. */
  override sendAudio(audio: ArrayBuffer, options: { commit?: boolean } = {}): void {
    if (this.#state.status === 'connected') super.sendAudio(audio, options);
  }

  /** Sends `response.cancel` if a response is in flight (once). */
  _cancelResponse(): void {
    if (this.#responses.beginCancel()) this.#sendNow({ type: 'response.cancel' });
  }

  /**
   * Interrupts the model's speech: cancels the response, reports `audio_interrupted`, and truncates the item at
   * `elapsedTime` ms (bounded by the audio received). Call `interrupt()`; subclasses may override this.
   */
  _interrupt(elapsedTime: number, cancelOngoingResponse = true): void {
    if (elapsedTime < 0) return;
    if (cancelOngoingResponse) this._cancelResponse();
    const p = this.#playback;
    const audioEndMs = Math.max(0, Math.floor(Math.min(elapsedTime, p.lengthMs)));
    this.emit('audio_interrupted');
    // Audio estimated to be fully played keeps its transcript.
    if (p.generationDone && elapsedTime >= p.lengthMs) return;
    this.sendEvent({
      type: 'conversation.item.truncate',
      item_id: p.itemId,
      content_index: p.contentIndex,
      audio_end_ms: audioEndMs,
    });
  }

  /** Interrupts the ongoing response at the audio elapsed since its first chunk (automatic on VAD speech start). */
  interrupt(cancelOngoingResponse = true): void {
    const p = this.#playback;
    if (p.itemId === undefined || p.firstAudioAt === undefined) return;
    const elapsed = Date.now() - p.firstAudioAt;
    if (elapsed >= 0) this._interrupt(elapsed, cancelOngoingResponse);
    p.reset();
  }

  /** Hook for subclasses that play audio themselves; emits the `audio` event by default. */
  protected _onAudio(event: TransportLayerAudio): void {
    this.emit('audio', event);
  }

  #assertConnected(): void {
    if (this.#state.status === 'disconnected') {
      const message = 'WebSocket is not connected. Make sure you call `connect()` before sending events.';
      throw new UsageError(ErrorCodes.INVALID_STATE, message);
    }
  }

  #sendNow(event: ClientMessage): void {
    this.#assertConnected();
    if (this.#state.socket?.send(JSON.stringify(event)) !== true) {
      throw new UsageError(
        ErrorCodes.INVALID_STATE,
        'WebSocket is still connecting: await `connect()` first.',
      );
    }
  }

  /** Connected: the initial `session.update` goes out before any server message is handled. */
  #onOpen(socket: ConnectorSocket, sessionConfig: Partial<RealtimeSessionConfig>): void {
    if (this.#state.socket !== socket) return;
    this.#state = { status: 'connected', socket };
    this.log.info({ model: this.currentModel }, 'realtime transport connected');
    this.emit('connection_change', 'connected');
    this.emit('connected');
    if (this.#state.socket === socket) this.updateSessionConfig(sessionConfig);
  }

  #toDisconnected(socket: ConnectorSocket): void {
    if (this.#state.socket !== socket) return;
    this.#state = { status: 'disconnected', socket: null };
    this.#responses.reset();
    this.#playback.clear();
    this.emit('connection_change', 'disconnected');
    this.emit('disconnected');
  }

  #onClose(socket: ConnectorSocket, info: SocketCloseInfo): void {
    if (this.#state.socket !== socket) return;
    if (!info.byUs && info.error !== null) this.#emitError(info.error);
    this.#toDisconnected(socket);
  }

  #emitError(error: VoxgateError): void {
    this.log.warn({ code: error.code, err: error }, 'realtime transport error');
    this.emit('error', { type: 'error', error });
  }

  #onMessage(socket: ConnectorSocket, data: Buffer, sessionConfig: Partial<RealtimeSessionConfig>): void {
    if (this.#state.socket !== socket) return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      socket.stats.protocolErrors++;
      this.#emitError(parsed.error);
      return;
    }
    const event = parsed.event;
    this.emit('*', event);
    if (event.type === 'error') {
      socket.stats.providerErrors++;
      this.#responses.onError(event.error);
      this.emit('error', { type: 'error', error: event });
      return;
    }
    const translation = translate(event);
    if ('problem' in translation) {
      socket.stats.protocolErrors++;
      this.#emitError(
        protocolError(`invalid ${event.type}: ${translation.problem}`, data.length, event.type),
      );
      return;
    }
    const emit = this.emit as (type: string, ...args: unknown[]) => boolean;
    emit.call(this, event.type, event);
    if (event.type === 'session.updated') this.#session = event.session as Session;
    if (event.type === 'response.output_audio.done') this.#playback.generationDone = true;
    for (const [name, ...args] of translation.emit) emit.call(this, name, ...args);
    if (this.#state.socket === socket) this.#react(socket, event, sessionConfig);
  }

  /** Audio, response bookkeeping and the automatic sends of the reference client. */
  #react(
    socket: ConnectorSocket,
    event: TransportEvent,
    sessionConfig: Partial<RealtimeSessionConfig>,
  ): void {
    switch (event.type) {
      case 'response.output_audio.delta':
        this.#onAudioDelta(socket, event);
        break;
      case 'input_audio_buffer.speech_started':
        // The server cancels by itself when its VAD has interrupt_response set.
        this.interrupt(this.#session?.audio?.input?.turn_detection?.interrupt_response !== true);
        break;
      case 'response.created': {
        const response = event.response as { id?: unknown; audio?: { output?: { format?: unknown } } };
        const format = response.audio?.output?.format ?? this.#session?.audio?.output?.format;
        if (typeof response.id === 'string') this.#playback.onResponseCreated(response.id, format);
        this.#responses.onResponseCreated();
        break;
      }
      case 'response.done': {
        const id = (event.response as { id?: unknown }).id;
        if (typeof id === 'string') this.#playback.onResponseDone(id);
        this.#responses.onResponseDone();
        break;
      }
      case 'session.created':
        this.#tracingConfig =
          (event.session as { tracing?: RealtimeTracingConfig | null } | undefined)?.tracing ?? null;
        this.#updateTracing(sessionConfig.tracing === undefined ? 'auto' : sessionConfig.tracing);
        break;
      case 'conversation.item.truncated':
      case 'conversation.item.input_audio_transcription.completed':
        // As the reference does: re-read the item so the history gets its final transcript.
        if (typeof event.item_id === 'string')
          this.sendEvent({ type: 'conversation.item.retrieve', item_id: event.item_id });
        break;
    }
  }

  #onAudioDelta(socket: ConnectorSocket, event: TransportEvent): void {
    const delta = readAudioDelta(event);
    if (delta === null) {
      socket.stats.protocolErrors++;
      this.#emitError(protocolError('invalid response.output_audio.delta', undefined, event.type));
      return;
    }
    const bytes = decodeAudio(delta.delta);
    const sessionFormat = this.#session?.audio?.output?.format;
    this.#playback.onDelta(delta.itemId, delta.contentIndex, delta.responseId, bytes.length, sessionFormat);
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    this._onAudio({ type: 'audio', data, responseId: delta.responseId });
  }

  /** Sends the tracing config after `session.created`, unless the server already has a different one. */
  #updateTracing(config: RealtimeTracingConfig | null): void {
    const current = this.#tracingConfig;
    if (config !== 'auto' && config !== null && current !== null && typeof current === 'object') {
      this.log.debug({}, 'tracing already configured by the session; not changed');
      return;
    }
    this.sendEvent({ type: 'session.update', session: { type: 'realtime', tracing: config } });
  }
}
