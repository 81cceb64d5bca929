/**
 * VoxEngine's `WebSocket` (seeds 000/001): a text-only WebSocket that is also a media unit. Audio linked into it
 * goes to the peer as `start`/`media`/`stop` JSON frames; audio the peer sends comes out of it, per tag, in real
 * time (wsMedia.ts). Text frames that are not media events reach the scenario as `WebSocketEvents.MESSAGE`.
 *
 * Tags on inbound routes: `ws.sendMediaTo(unit, {tag})` hears exactly the peer's stream of that tag. A route
 * without a tag hears the untagged stream when the peer sends one, else the first tagged stream the peer started
 * (until it stops), so a scenario that ignores tags still hears a peer that uses them.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket as WsSocket } from 'ws';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes, UsageError } from '../errors.js';
import type { Link, MediaUnit, SendMediaOptions } from '../graph/unit.js';
import { MediaUnit as MediaUnitClass } from '../graph/unit.js';
import type { Logger } from '../log.js';
import type { AudioFormat } from '../media/format.js';
import type { WireEncoding } from '../transports/voxengineMedia.js';
import {
  DEFAULT_WIRE_ENCODING,
  parseVoxMediaMessage,
  resolveWireEncoding,
  wireEncodingFormat,
} from '../transports/voxengineMedia.js';
import type { ScenarioScope, SessionResource } from './context.js';
import { requireScope } from './context.js';
import { WebSocketEvents, WebSocketReadyState } from './enums.js';
import type { Handler } from './listeners.js';
import { Listeners, propertyHandler } from './listeners.js';
import type { ClearMediaBufferParameters, SendMediaParameters } from './params.js';
import { checkTag, checkUnit, toSendMediaOptions } from './params.js';
import type { ConnectionHost } from './wsConnection.js';
import { headerObject, WireConnection } from './wsConnection.js';
import type { InboundHost, InboundStreamInfo, WireSink } from './wsMedia.js';
import { InboundStreams, OutboundStream } from './wsMedia.js';

export interface WebSocketParameters {
  /** Subprotocols to offer. VoxEngine's default is "chat"; voxgate offers none unless asked, so any server works. */
  protocols?: string | string[];
  headers?: { name: string; value: string }[];
  /** Accepted for compatibility; voxgate keeps no statistics or traces. */
  statistics?: boolean;
  trace?: boolean;
  privacy?: boolean;
}

export interface WebSocketMediaInfo {
  /** Milliseconds of audio played. */
  duration: number;
}

interface WebSocketEventBase {
  websocket: WebSocket;
}
export type WebSocketOpenEvent = WebSocketEventBase;
export interface WebSocketCloseEvent extends WebSocketEventBase {
  code: number;
  reason: string;
  wasClean: boolean;
}
export interface WebSocketMessageEvent extends WebSocketEventBase {
  text: string;
}
export interface WebSocketErrorEvent extends WebSocketEventBase {
  /** voxgate extra: what went wrong, with a stable code. */
  error?: VoxgateError;
}
export interface WebSocketCreatedEvent extends WebSocketEventBase {
  statisticsUrl?: string;
}
export interface WebSocketMediaStartedEvent extends WebSocketEventBase {
  tag?: string;
  encoding?: string;
  customParameters?: Record<string, string>;
}
export interface WebSocketMediaEndedEvent extends WebSocketEventBase {
  tag?: string;
  mediaInfo?: WebSocketMediaInfo;
}

export type WebSocketEventMap = {
  [WebSocketEvents.OPEN]: WebSocketOpenEvent;
  [WebSocketEvents.CLOSE]: WebSocketCloseEvent;
  [WebSocketEvents.MESSAGE]: WebSocketMessageEvent;
  [WebSocketEvents.ERROR]: WebSocketErrorEvent;
  [WebSocketEvents.CREATED]: WebSocketCreatedEvent;
  [WebSocketEvents.MEDIA_STARTED]: WebSocketMediaStartedEvent;
  [WebSocketEvents.MEDIA_ENDED]: WebSocketMediaEndedEvent;
};

type EventName = keyof WebSocketEventMap;

/** @internal How a session hands an accepted server-side socket to the WebSocket constructor. */
export interface IncomingSocket {
  readonly scope: ScenarioScope;
  readonly socket: WsSocket;
}

/** The format a WebSocket receives (and sends to its peer) for an `encoding` option; default PCM8. */
function outboundEncoding(encoding: string | undefined): WireEncoding {
  if (encoding === undefined) return DEFAULT_WIRE_ENCODING;
  const resolved = resolveWireEncoding(encoding);
  if (resolved === undefined) {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `unknown encoding '${encoding.slice(0, 40)}': use WebSocketAudioEncoding.PCM8, PCM16, ULAW or ALAW`,
    );
  }
  if (resolved === 'OPUS') {
    throw new UsageError(
      ErrorCodes.UNSUPPORTED_ENCODING,
      'OPUS is not supported by voxgate: use PCM8, PCM16, ULAW or ALAW',
    );
  }
  return resolved;
}

export class WebSocket extends MediaUnitClass implements SessionResource {
  /** Outgoing: the URL connected to; incoming: the session's WebSocket URL. */
  readonly url: string;
  readonly #id = randomUUID();
  readonly #scope: ScenarioScope;
  readonly #log: Logger;
  readonly #listeners = new Listeners<WebSocketEventMap>('WebSocket');
  readonly #on = new Map<EventName, (event: never) => unknown>();
  readonly #inbound: InboundStreams;
  readonly #connection: WireConnection;
  readonly #problems = new Map<string, number>();
  #createdFired = false;
  #sequenceNumber = 0;
  #outbound: OutboundStream | null = null;
  readonly #wire: WireSink = {
    nextSequenceNumber: () => this.#sequenceNumber++,
    sendText: (text) => this.#connection.write(text),
  };

  /**
   * Opens a WebSocket to `url` (`ws://` or `wss://`) for the current session. `VoxEngine.createWebSocket` does
   * the same. Throws a UsageError for a bad URL or outside a session.
   */
  constructor(url: string, parameters?: WebSocketParameters, incoming?: IncomingSocket) {
    super('websocket');
    const scope = incoming?.scope ?? requireScope('new WebSocket()');
    if (!scope.active)
      throw new UsageError(ErrorCodes.INVALID_STATE, 'new WebSocket(): the session is terminating');
    if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        'new WebSocket(url): url must be a ws:// or wss:// URL string',
      );
    }
    this.url = url;
    this.#scope = scope;
    this.#log = scope.log.child({ websocketId: this.#id });
    this.#inbound = new InboundStreams(this.#inboundHost(scope));
    const target = incoming?.socket ?? {
      url,
      protocols: parameters?.protocols ?? [],
      headers: headerObject(parameters?.headers),
    };
    this.#connection = new WireConnection(this.#connectionHost(scope), target);
    scope.track(this);
    scope.defer(() => this.#fireCreated());
  }

  id(): string {
    return this.#id;
  }

  get readyState(): WebSocketReadyState {
    return this.#connection.state;
  }

  /** Sends a text frame. Queued while connecting (up to the session's `maxQueuedMessages`); dropped once closed. */
  send(data: string): void {
    if (typeof data !== 'string') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        'websocket.send(data): data must be a string (VoxEngine WebSockets carry text)',
      );
    }
    this.#connection.write(data);
  }

  /** Closes the connection or the connection attempt; `WebSocketEvents.CLOSE` follows. */
  close(): void {
    this.#connection.close();
  }

  /** Drops the peer's audio not yet played (every stream, or the one of `tag`). Nothing is sent to the peer. */
  clearMediaBuffer(parameters?: ClearMediaBufferParameters): void {
    const tag = checkTag(parameters?.tag, 'websocket.clearMediaBuffer');
    this.#inbound.clear(tag);
    this.clearOutputs(tag);
  }

  /** Routes the peer's audio (stream `parameters.tag`, see the file comment) into `unit`. */
  override sendMediaTo(unit: MediaUnit, parameters?: SendMediaParameters): void {
    super.sendMediaTo(
      checkUnit(unit, 'websocket.sendMediaTo'),
      toSendMediaOptions(parameters, 'websocket.sendMediaTo'),
    );
  }

  override stopMediaTo(unit: MediaUnit, _parameters?: SendMediaParameters): void {
    super.stopMediaTo(checkUnit(unit, 'websocket.stopMediaTo'));
  }

  addEventListener<K extends EventName>(event: K, callback: Handler<WebSocketEventMap[K]>): void {
    this.#listeners.add(event, callback);
  }

  removeEventListener<K extends EventName>(event: K, callback?: Handler<WebSocketEventMap[K]>): void {
    this.#listeners.remove(event, callback);
  }

  get onopen(): Handler<WebSocketOpenEvent> | null {
    return this.#getOn(WebSocketEvents.OPEN);
  }
  set onopen(handler: Handler<WebSocketOpenEvent> | null) {
    this.#setOn(WebSocketEvents.OPEN, handler, 'onopen');
  }
  get onclose(): Handler<WebSocketCloseEvent> | null {
    return this.#getOn(WebSocketEvents.CLOSE);
  }
  set onclose(handler: Handler<WebSocketCloseEvent> | null) {
    this.#setOn(WebSocketEvents.CLOSE, handler, 'onclose');
  }
  get onerror(): Handler<WebSocketErrorEvent> | null {
    return this.#getOn(WebSocketEvents.ERROR);
  }
  set onerror(handler: Handler<WebSocketErrorEvent> | null) {
    this.#setOn(WebSocketEvents.ERROR, handler, 'onerror');
  }
  get onmessage(): Handler<WebSocketMessageEvent> | null {
    return this.#getOn(WebSocketEvents.MESSAGE);
  }
  set onmessage(handler: Handler<WebSocketMessageEvent> | null) {
    this.#setOn(WebSocketEvents.MESSAGE, handler, 'onmessage');
  }
  get oncreated(): Handler<WebSocketCreatedEvent> | null {
    return this.#getOn(WebSocketEvents.CREATED);
  }
  set oncreated(handler: Handler<WebSocketCreatedEvent> | null) {
    this.#setOn(WebSocketEvents.CREATED, handler, 'oncreated');
  }
  get onmediastarted(): Handler<WebSocketMediaStartedEvent> | null {
    return this.#getOn(WebSocketEvents.MEDIA_STARTED);
  }
  set onmediastarted(handler: Handler<WebSocketMediaStartedEvent> | null) {
    this.#setOn(WebSocketEvents.MEDIA_STARTED, handler, 'onmediastarted');
  }
  get onmediaended(): Handler<WebSocketMediaEndedEvent> | null {
    return this.#getOn(WebSocketEvents.MEDIA_ENDED);
  }
  set onmediaended(handler: Handler<WebSocketMediaEndedEvent> | null) {
    this.#setOn(WebSocketEvents.MEDIA_ENDED, handler, 'onmediaended');
  }

  /** @internal The wire format for a link's `encoding` option (default PCM8; OPUS refused). */
  inputFormat(options: Readonly<SendMediaOptions>): AudioFormat {
    return wireEncodingFormat(outboundEncoding(options.encoding));
  }

  /** @internal */
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.#outbound?.push(frame);
  }

  protected override inputAttached(link: Link): void {
    const { tag, encoding, customParameters } = link.options;
    this.#outbound = new OutboundStream(
      this.#wire,
      tag,
      outboundEncoding(encoding),
      link.targetFormat,
      customParameters,
    );
  }

  protected override inputDetached(_link: Link): void {
    const state = this.#connection.state;
    this.#outbound?.stop(state !== WebSocketReadyState.OPEN && state !== WebSocketReadyState.CONNECTING);
    this.#outbound = null;
  }

  protected override inputCleared(_link: Link): void {
    this.#outbound?.clear();
  }

  /** @internal The session ends: stop the audio (sending `stop`), leave the clock, close the socket. Idempotent. */
  closeForSession(): void {
    this.#inbound.closeAll();
    this.detachAll();
    this.#connection.close();
  }

  #getOn<E>(event: EventName): Handler<E> | null {
    return (this.#on.get(event) as Handler<E> | undefined) ?? null;
  }

  #setOn(event: EventName, handler: unknown, property: string): void {
    const fn = propertyHandler(handler, `websocket.${property}`);
    if (fn === null) this.#on.delete(event);
    else this.#on.set(event, fn);
  }

  #fire<K extends EventName>(event: K, payload: WebSocketEventMap[K]): void {
    this.#listeners.emit(this.#scope, event, payload, this, this.#on.get(event) ?? null);
  }

  #fireCreated(): void {
    if (this.#createdFired) return;
    this.#createdFired = true;
    this.#fire(WebSocketEvents.CREATED, { websocket: this });
  }

  /** Peer input problems: the first of each code is reported to the session, the rest logged at debug. */
  #problem(error: VoxgateError): void {
    const seen = (this.#problems.get(error.code) ?? 0) + 1;
    this.#problems.set(error.code, seen);
    if (seen === 1) this.#scope.reportError(error, { websocketId: this.#id, source: 'websocket' });
    else this.#log.debug({ code: error.code, count: seen }, 'websocket peer input problem repeated');
  }

  #connectionHost(scope: ScenarioScope): ConnectionHost {
    return {
      limits: scope.limits,
      opened: () => {
        this.#fireCreated();
        this.#fire(WebSocketEvents.OPEN, { websocket: this });
      },
      text: (text) => this.#onText(text),
      problem: (error) => this.#problem(error),
      failed: (error) => {
        this.#scope.reportError(error, { websocketId: this.#id, source: 'websocket' });
        this.#fire(WebSocketEvents.ERROR, { websocket: this, error });
      },
      closed: (code, reason, wasClean) => {
        // The peer can no longer hear us: drop our outbound link; what it sent us still plays out.
        this.input?.source.stopMediaTo(this);
        this.#inbound.endAll();
        this.#fireCreated();
        this.#fire(WebSocketEvents.CLOSE, { websocket: this, code, reason, wasClean });
      },
    };
  }

  #inboundHost(scope: ScenarioScope): InboundHost {
    const info = (s: InboundStreamInfo) => ({
      websocket: this,
      ...(s.tag === undefined ? {} : { tag: s.tag }),
    });
    return {
      limits: scope.limits,
      playFrame: (frame, format, tag, untagged) => {
        this.emitTaggedMedia(frame, format, tag);
        if (untagged) this.emitTaggedMedia(frame, format, undefined);
      },
      // Deferred: these fire inside a clock tick or inside a scenario's clearMediaBuffer() call.
      mediaStarted: (s) => {
        const payload = { ...info(s), encoding: s.encoding, customParameters: s.customParameters ?? {} };
        queueMicrotask(() => this.#fire(WebSocketEvents.MEDIA_STARTED, payload));
      },
      mediaEnded: (s, duration) => {
        const payload = { ...info(s), mediaInfo: { duration } };
        queueMicrotask(() => this.#fire(WebSocketEvents.MEDIA_ENDED, payload));
      },
      problem: (error) => this.#problem(error),
    };
  }

  #onText(text: string): void {
    const parsed = parseVoxMediaMessage(text);
    switch (parsed.type) {
      case 'media':
        this.#inbound.media(parsed.media);
        return;
      case 'start':
        this.#inbound.start(parsed.start);
        return;
      case 'stop':
        this.#inbound.stop(parsed.stop);
        return;
      case 'ignored':
        return;
      case 'invalid':
        this.#problem(parsed.error);
        if (!parsed.asText) return;
        break;
      case 'text':
        break;
    }
    this.#fire(WebSocketEvents.MESSAGE, { websocket: this, text });
  }
}
