/**
 * VoxEngine's `OpenAI.RealtimeAPIClient`: an OpenAI Realtime session that is a media unit. Caller audio routed
 * into it becomes `input_audio_buffer.append`; response audio is paced out to the units attached with
 * `sendMediaTo`; every other server event reaches scenario handlers as `{client, data: {customEvent, payload}}`.
 * Methods take one raw object each and send one GA client event. See docs/connectors.md.
 */
import { ErrorCodes, UpstreamError, UsageError } from '../errors.js';
import type { Link, MediaUnit, SendMediaOptions } from '../graph/unit.js';
import type { Logger } from '../log.js';
import type { AudioFormat } from '../media/format.js';
import { ALAW_8K, PCM16_24K, ULAW_8K } from '../media/format.js';
import type { PlayoutOptions } from '../media/playout.js';
import { connected, type Deliver, VoiceAIClient } from './base.js';
import type { SocketCloseInfo } from './connectorSocket.js';
import {
  parseServerMessage,
  type RealtimeAPIEventName,
  RealtimeAPIEvents,
  readAudioDelta,
  wireEvents,
} from './openaiRealtimeEvents.js';
import {
  appendMessage,
  decodeAudio,
  formatFromWire,
  isFatalProviderError,
  OPENAI_BASE_URL,
  realtimeUrl,
  type SessionAudio,
  sessionAudioOf,
  wireFormat,
} from './openaiRealtimeProtocol.js';
import type { ConnectorCloseEvent, ConnectorEvent, ConnectorMediaEvent, TransportEvent } from './types.js';

export { type RealtimeAPIEventName, RealtimeAPIEvents } from './openaiRealtimeEvents.js';

/** `OpenAI.Events`: response audio started / ended playing (ended after the stream drains, or 1 s of silence). */
export const Events = Object.freeze({
  WebSocketMediaStarted: 'OpenAI.Events.WebSocketMediaStarted',
  WebSocketMediaEnded: 'OpenAI.Events.WebSocketMediaEnded',
} as const);

export const RealtimeAPIClientType = Object.freeze({
  REALTIME: 'realtime',
  TRANSCRIPTION: 'transcription',
} as const);
export type RealtimeAPIClientType = (typeof RealtimeAPIClientType)[keyof typeof RealtimeAPIClientType];

const E = RealtimeAPIEvents;

/** The handler payload of each event. */
export type RealtimeAPIClientEventMap = { [K in RealtimeAPIEventName]: ConnectorEvent<RealtimeAPIClient> } & {
  [K in (typeof Events)[keyof typeof Events]]: ConnectorMediaEvent<RealtimeAPIClient>;
};

export interface RealtimeAPIClientParameters {
  apiKey: string;
  /** Default `gpt-realtime`. */
  model?: string;
  /** `realtime` (default) or `transcription` (`?intent=transcription`). */
  type?: RealtimeAPIClientType;
  /** Default `https://api.openai.com/`; `http://127.0.0.1:port/` targets a local server over `ws://`. */
  baseUrl?: string;
  /** Called once when the socket closes after it was open, whoever closed it. */
  onWebSocketClose?: (event: ConnectorCloseEvent<RealtimeAPIClient>) => void;
  /** Accepted for VoxEngine compatibility; no effect. */
  statistics?: boolean;
  trace?: boolean;
  privacy?: boolean;
  /**
   * voxgate: the session audio format. `auto` (default) picks it from the first unit linked with the client:
   * G.711 mu-law/A-law 8 kHz peers get `audio/pcmu`/`audio/pcma` with no transcoding, anything else
   * `audio/pcm` 24 kHz through the link's resampler. A `sessionUpdate` that sets formats overrides it.
   */
  audioFormat?: 'auto' | SessionAudio;
  /**
   * voxgate: on `input_audio_buffer.speech_started`, clear the media buffer, cancel the response (unless the
   * server's VAD does) and truncate the assistant item at the audio actually played. Default false: VoxEngine
   * scenarios do it themselves (or call `client.interrupt()`).
   */
  bargeIn?: boolean;
  /** voxgate: opening handshake timeout, ms (default 10 000; VG_ERR_CONNECT_TIMEOUT). */
  connectTimeoutMs?: number;
  /** voxgate: close the client on a provider message that is not valid JSON (default false: report and go on). */
  closeOnProtocolError?: boolean;
  /** voxgate: the playout of response audio (lead frames, max buffered ms, end after ms). */
  playout?: PlayoutOptions;
  /** voxgate: how handlers are invoked; the scenario runtime passes its safe emit. */
  deliver?: Deliver;
  log?: Logger;
}

interface PlayingItem {
  id: string;
  contentIndex: number;
  done: boolean;
}

/** Connect and resolve to a client, or reject with a coded error (VG_ERR_CONNECT_*, VG_ERR_UPSTREAM_HTTP). */
export async function createRealtimeAPIClient(
  parameters: RealtimeAPIClientParameters,
): Promise<RealtimeAPIClient> {
  return connected(new RealtimeAPIClient(parameters));
}

export class RealtimeAPIClient extends VoiceAIClient<RealtimeAPIClientEventMap> {
  readonly #params: RealtimeAPIClientParameters;
  readonly #model: string;
  /** The session formats are settled (by parameter, by the first linked unit, or by the scenario). */
  #formatChosen = false;
  #responseActive = false;
  /** The server cancels responses itself when its VAD hears speech (turn_detection.interrupt_response). */
  #serverInterrupts = false;
  #playing: PlayingItem | null = null;
  /** Audio of an interrupted item still in flight is dropped, never played. */
  #mutedItemId: string | null = null;

  constructor(parameters: RealtimeAPIClientParameters) {
    if (typeof parameters?.apiKey !== 'string' || parameters.apiKey === '') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        'OpenAI.createRealtimeAPIClient: apiKey must be a non-empty string',
      );
    }
    super({
      kind: 'openai-realtime',
      mediaEvents: { started: Events.WebSocketMediaStarted, ended: Events.WebSocketMediaEnded },
      inputFormat: PCM16_24K,
      outputFormat: PCM16_24K,
      playout: parameters.playout,
      onWebSocketClose: parameters.onWebSocketClose as ((event: never) => unknown) | undefined,
      deliver: parameters.deliver,
      log: parameters.log,
    });
    this.#params = parameters;
    this.#model = parameters.model ?? 'gpt-realtime';
  }

  /** @internal Used by createRealtimeAPIClient. */
  async connect(): Promise<void> {
    const p = this.#params;
    const transcription = p.type === RealtimeAPIClientType.TRANSCRIPTION;
    const query: Record<string, string> = transcription
      ? { intent: 'transcription' }
      : { model: this.#model };
    await this.socket.open({
      url: realtimeUrl(p.baseUrl ?? OPENAI_BASE_URL, query),
      headers: {
        Authorization: `Bearer ${p.apiKey}`,
        'User-Agent': 'voxgate/0.1 (OpenAI.RealtimeAPIClient)',
      },
      ...(p.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: p.connectTimeoutMs }),
    });
    this.log.info({ model: this.#model, type: p.type ?? 'realtime' }, 'openai realtime client connected');
    const fixed = p.audioFormat === undefined || p.audioFormat === 'auto' ? null : p.audioFormat;
    if (fixed !== null) this.#useFormats(fixed, fixed, true);
    else if (this.#formatChosen) {
      // Linked before connecting: announce what the links chose.
      this.#useFormats(sessionAudioOf(this.inputFormat({})), sessionAudioOf(this.outputFormat), true);
    }
  }

  /** `session.update`; formats it sets become the client's (both link directions follow). */
  sessionUpdate(parameters: { session?: Record<string, unknown>; [key: string]: unknown } = {}): void {
    const audio = parameters.session?.audio as
      | { input?: { format?: unknown }; output?: { format?: unknown } }
      | undefined;
    const input = formatFromWire(audio?.input?.format);
    const output = formatFromWire(audio?.output?.format);
    if (input !== null || output !== null) {
      this.#useFormats(
        input === null ? null : sessionAudioOf(input),
        output === null ? null : sessionAudioOf(output),
        false,
      );
    }
    this.#send('session.update', parameters);
  }
  inputAudioBufferClear(parameters?: object): void {
    this.#send('input_audio_buffer.clear', parameters);
  }
  inputAudioBufferCommit(parameters?: object): void {
    this.#send('input_audio_buffer.commit', parameters);
  }
  conversationItemCreate(parameters?: object): void {
    this.#send('conversation.item.create', parameters);
  }
  conversationItemRetrieve(parameters?: object): void {
    this.#send('conversation.item.retrieve', parameters);
  }
  conversationItemTruncate(parameters?: object): void {
    this.#send('conversation.item.truncate', parameters);
  }
  conversationItemDelete(parameters?: object): void {
    this.#send('conversation.item.delete', parameters);
  }
  responseCreate(parameters?: object): void {
    this.#send('response.create', parameters);
  }
  responseCancel(parameters?: object): void {
    this.#send('response.cancel', parameters);
  }

  /**
   * voxgate barge-in helper: drops the response audio not yet played (here and downstream), cancels the
   * response if one is running, and truncates the assistant item at the audio the units were actually sent, so
   * the model's memory matches what the caller heard. Call it on `InputAudioBufferSpeechStarted`.
   */
  interrupt(): void {
    this.#interrupt(this.#responseActive);
  }

  override sendMediaTo(target: MediaUnit, options: SendMediaOptions = {}): void {
    this.#chooseFrom(target, options);
    super.sendMediaTo(target, options);
  }

  /** @internal Caller audio → `input_audio_buffer.append`. */
  receiveMedia(frame: Uint8Array, _link: Link): void {
    const sent = this.socket.send(appendMessage(frame));
    if (sent) this.stats.framesSent++;
  }

  protected override inputAttached(link: Link): void {
    this.#chooseFrom(link.source, link.options);
  }

  protected onSocketMessage(data: Buffer): void {
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.stats.protocolErrors++;
      this.reportError(E.WebSocketError, 'protocol_error', parsed.error.toJSON(), parsed.error);
      if (this.#params.closeOnProtocolError) this.close();
      return;
    }
    const event = parsed.event;
    if (event.type === 'response.output_audio.delta') {
      this.#onAudioDelta(event);
      return;
    }
    this.#track(event);
    if (event.type === 'error') {
      this.#onProviderError(event);
      return;
    }
    if (event.type === 'input_audio_buffer.speech_started' && this.#params.bargeIn) {
      this.#interrupt(this.#responseActive && !this.#serverInterrupts);
    }
    this.dispatch(wireEvents.get(event.type) ?? E.Unknown, {
      client: this,
      data: { customEvent: event.type, payload: event },
    });
  }

  protected override onSocketClosed(info: SocketCloseInfo): void {
    if (info.error !== null) this.reportError(E.WebSocketError, 'close', info.error.toJSON(), info.error);
  }

  #send(type: string, parameters: object | undefined): void {
    const { type: _ignored, ...rest } = (parameters ?? {}) as Record<string, unknown>;
    if (!this.socket.send(JSON.stringify({ type, ...rest }))) {
      throw new UsageError(
        ErrorCodes.INVALID_STATE,
        `OpenAI.RealtimeAPIClient: cannot send ${type}, the client is closed`,
      );
    }
  }

  /** Response and session state the client acts on. */
  #track(event: TransportEvent): void {
    if (event.type === 'response.created') this.#responseActive = true;
    else if (event.type === 'response.done') this.#responseActive = false;
    else if (event.type === 'response.output_audio.done') {
      if (this.#playing !== null && this.#playing.id === event.item_id) this.#playing.done = true;
      this.endAudio();
    } else if (event.type === 'session.created' || event.type === 'session.updated') {
      const session = event.session as {
        audio?: { input?: { turn_detection?: { interrupt_response?: unknown } | null } };
      };
      this.#serverInterrupts = session?.audio?.input?.turn_detection?.interrupt_response === true;
    }
  }

  #onProviderError(event: TransportEvent): void {
    this.stats.providerErrors++;
    const detail = (event.error ?? {}) as {
      type?: unknown;
      code?: unknown;
      message?: unknown;
      param?: unknown;
    };
    const fatal = isFatalProviderError(detail);
    const message = `the provider reported an error: ${typeof detail.message === 'string' ? detail.message : 'no message'}`;
    const error = new UpstreamError(ErrorCodes.UPSTREAM_ERROR, message, {
      retryable: detail.code === 'rate_limit_exceeded',
      details: { type: detail.type, code: detail.code, param: detail.param, fatal },
    });
    this.reportError(E.Error, 'error', event, error);
    if (fatal) this.close();
  }

  #onAudioDelta(event: TransportEvent): void {
    const delta = readAudioDelta(event);
    if (delta === null) {
      this.stats.protocolErrors++;
      const error = new UpstreamError(
        ErrorCodes.UPSTREAM_PROTOCOL,
        'the provider sent an invalid response.output_audio.delta',
      );
      this.reportError(E.WebSocketError, event.type, error.toJSON(), error);
      return;
    }
    if (delta.itemId === this.#mutedItemId) return;
    const playing = this.#playing;
    if (playing === null || playing.id !== delta.itemId || playing.contentIndex !== delta.contentIndex) {
      this.markSegment();
      this.#playing = { id: delta.itemId, contentIndex: delta.contentIndex, done: false };
    }
    this.playAudio(decodeAudio(delta.delta));
  }

  #interrupt(cancel: boolean): void {
    if (this.closed) return;
    if (cancel) this.socket.send('{"type":"response.cancel"}');
    const item = this.#playing;
    if (item !== null) {
      const { playedMs, queuedMs } = this.segmentProgress();
      // Audio fully played keeps its transcript (as the reference client does).
      if (!(item.done && playedMs >= queuedMs)) {
        const truncate = {
          type: 'conversation.item.truncate',
          item_id: item.id,
          content_index: item.contentIndex,
          audio_end_ms: Math.floor(playedMs),
        };
        this.socket.send(JSON.stringify(truncate));
      }
      this.#mutedItemId = item.id;
      this.#playing = null;
    }
    this.clearMediaBuffer();
  }

  /** Unless settled: G.711 8 kHz peers get `audio/pcmu`/`audio/pcma` (no transcoding), others `audio/pcm`. */
  #chooseFrom(peer: MediaUnit, options: Readonly<SendMediaOptions>): void {
    if (this.#formatChosen) return;
    const format = this.peerFormat(peer, options);
    if (format === null) return;
    const kind: SessionAudio = format === ULAW_8K ? 'pcmu' : format === ALAW_8K ? 'pcma' : 'pcm';
    this.#useFormats(kind, kind, true);
  }

  /** Adopts session formats (null = unchanged); `announce` sends the matching `session.update`. */
  #useFormats(input: SessionAudio | null, output: SessionAudio | null, announce: boolean): void {
    this.#formatChosen = true;
    if (input !== null) this.setInputFormat(formatOf(input));
    if (output !== null) this.setOutputFormat(formatOf(output));
    if (!announce || this.socket.state.status !== 'open') return;
    const transcription = this.#params.type === RealtimeAPIClientType.TRANSCRIPTION;
    const audio = {
      ...(input === null ? {} : { input: { format: wireFormat(input) } }),
      ...(output === null || transcription ? {} : { output: { format: wireFormat(output) } }),
    };
    this.#send('session.update', { session: { type: transcription ? 'transcription' : 'realtime', audio } });
  }
}

function formatOf(kind: SessionAudio): AudioFormat {
  return kind === 'pcmu' ? ULAW_8K : kind === 'pcma' ? ALAW_8K : PCM16_24K;
}
