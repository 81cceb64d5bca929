/**
 * VoxEngine's `Call`: a media unit around a caller-side `CallTransport`. Caller audio arrives in the transport's
 * format and leaves through this unit's links (which convert); audio linked into the call goes to the transport
 * at once, because sources pace themselves. Audio in either direction is dropped until the call is Connected.
 *
 * Mapping of transport events: `close` → `CallEvents.Disconnected` (reason = the transport's CallEndReason);
 * `control` → `CallEvents.MessageReceived` with `text` = the control message as a JSON string; `error` → the
 * session's `error` event (the call goes on).
 */
import { ErrorCodes } from '../errors.js';
import type { Link, SendMediaOptions } from '../graph/unit.js';
import { MediaUnit } from '../graph/unit.js';
import type { AudioFormat } from '../media/format.js';
import type { CallEndReason, CallerControl, CallTransport } from '../transports/types.js';
import type { ScenarioScope } from './context.js';
import type { CallState } from './enums.js';
import { CallEvents } from './enums.js';
import type { Handler } from './listeners.js';
import { Listeners } from './listeners.js';
import type { SendMediaParameters } from './params.js';
import { checkCustomData, checkUnit, toSendMediaOptions } from './params.js';

interface CallEventBase {
  call: Call;
  /** The event name, e.g. `'Call.Connected'`. */
  name: string;
  /** The call's id. */
  id: string;
}
export interface CallConnectedEvent extends CallEventBase {
  headers: Record<string, string>;
  customData?: string;
}
export interface CallDisconnectedEvent extends CallEventBase {
  headers: Record<string, string>;
  /** 200 for a normal end. */
  internalCode: number;
  /** Why the call ended: a voxgate CallEndReason, e.g. `'customer-ended-call'`. */
  reason: string;
  /** Seconds from Connected to the end (0 if never connected). */
  duration: number;
  cost: number;
  direction: 'incoming';
}
export interface CallFailedEvent extends CallEventBase {
  code: number;
  reason: string;
  headers: Record<string, string>;
}
/** A caller control message; `text` is the message as a JSON string, e.g. `{"type":"say","content":"hi"}`. */
export interface CallMessageReceivedEvent extends CallEventBase {
  text: string;
  headers: Record<string, string>;
}
export interface CallToneReceivedEvent extends CallEventBase {
  tone: string;
  type: string;
}
export interface CallStateChangedEvent extends CallEventBase {
  oldState: CallState;
  newState: CallState;
}

/** Payload of each call event. voxgate raises Connected, Disconnected, MessageReceived and StateChanged. */
export type CallEventMap = {
  [CallEvents.Connected]: CallConnectedEvent;
  [CallEvents.Disconnected]: CallDisconnectedEvent;
  [CallEvents.Failed]: CallFailedEvent;
  [CallEvents.Ringing]: CallEventBase;
  [CallEvents.AudioStarted]: CallEventBase;
  [CallEvents.PlaybackFinished]: CallEventBase;
  [CallEvents.ToneReceived]: CallToneReceivedEvent;
  [CallEvents.MessageReceived]: CallMessageReceivedEvent;
  [CallEvents.StateChanged]: CallStateChangedEvent;
};

/** What a session knows about the call when it creates it. */
export interface CallInit {
  id: string;
  transport: CallTransport;
  callerid: string;
  destination: string;
  customData: string | undefined;
  headers: Record<string, string>;
  /** Where `sendMessage` delivers (the transport's `sendMessage`, or the server's shaping of it). */
  sendMessage: (message: Record<string, unknown>) => void;
}

export class Call extends MediaUnit {
  readonly #scope: ScenarioScope;
  readonly #init: CallInit;
  readonly #transport: CallTransport;
  readonly #listeners = new Listeners<CallEventMap>('Call');
  readonly #onEnded: (call: Call, reason: CallEndReason) => void;
  #state: CallState = 'ALERTING';
  #customData: string | undefined;
  #connectedAt = 0;
  /** Set when the session ends the call: no Disconnected then (only Terminating/Terminated fire). */
  #quiet = false;

  /** @internal Sessions create calls; scenarios receive them in `AppEvents.CallAlerting`. */
  constructor(scope: ScenarioScope, init: CallInit, onEnded: (call: Call, reason: CallEndReason) => void) {
    super('call');
    this.#scope = scope;
    this.#init = init;
    this.#transport = init.transport;
    this.#customData = init.customData;
    this.#onEnded = onEnded;
    const t = init.transport;
    t.on('audio', this.#onAudio);
    t.on('control', this.#onControl);
    t.on('close', this.#onClose);
    t.on('error', this.#onError);
  }

  id(): string {
    return this.#init.id;
  }

  /** `'ALERTING'` until answered, `'CONNECTED'` once Connected fired, `'TERMINATED'` after the end. */
  state(): CallState {
    return this.#state;
  }

  callerid(): string {
    return this.#init.callerid;
  }

  /** The number (or address) that was called. */
  number(): string {
    return this.#init.destination;
  }

  /** Gets or sets the call's custom data (at most 200 bytes). */
  customData(value?: string): string {
    if (value !== undefined) this.#customData = checkCustomData(value, 'call.customData');
    return this.#customData ?? '';
  }

  /** Answers the call; `CallEvents.Connected` follows asynchronously and audio starts flowing then. */
  answer(_extraHeaders?: Record<string, string>, _parameters?: object): void {
    if (this.#state !== 'ALERTING') {
      this.#scope.log.warn(
        { code: ErrorCodes.INVALID_STATE, state: this.#state },
        'answer ignored: call not alerting',
      );
      return;
    }
    this.#setState('PROGRESSING');
    this.#scope.defer(() => {
      if (this.#state !== 'PROGRESSING') return;
      this.#connectedAt = Date.now();
      this.#setState('CONNECTED');
      this.#emit(CallEvents.Connected, {
        ...this.#base(CallEvents.Connected),
        headers: {},
        customData: this.#customData,
      });
    });
  }

  /** Ends the call from our side; `CallEvents.Disconnected` follows. */
  hangup(_extraHeaders?: Record<string, string>): void {
    this.#transport.close('assistant-ended-call');
  }

  /** Declines an unanswered call. voxgate's transports have no reject code, so this ends the call like hangup(). */
  reject(_code?: number, _extraHeaders?: Record<string, string>): void {
    this.#transport.close('assistant-ended-call');
  }

  /**
   * Sends a message to the caller (VoxEngine's `Call.sendMessage`). On voxgate's WebSocket transport, text that
   * is a JSON object goes as that object, e.g. a Vapi client message
   * `{"type":"transcript","role":"assistant","transcriptType":"final","transcript":"Hello!"}`; any other text
   * goes as `{"type":"message","text":…}`. Ignored unless the call is connected.
   */
  sendMessage(text: string): void {
    if (this.#state !== 'CONNECTED') {
      this.#scope.log.debug({ code: ErrorCodes.INVALID_STATE, state: this.#state }, 'sendMessage ignored');
      return;
    }
    const message = typeof text === 'string' ? jsonMessage(text) : null;
    this.#init.sendMessage(message ?? { type: 'message', text: String(text) });
  }

  /** Sends this call's audio to `unit`. `parameters` matter only when `unit` is a WebSocket. */
  override sendMediaTo(unit: MediaUnit, parameters?: SendMediaParameters): void {
    super.sendMediaTo(
      checkUnit(unit, 'call.sendMediaTo'),
      toSendMediaOptions(parameters, 'call.sendMediaTo'),
    );
  }

  override stopMediaTo(unit: MediaUnit, _parameters?: SendMediaParameters): void {
    super.stopMediaTo(checkUnit(unit, 'call.stopMediaTo'));
  }

  addEventListener<K extends keyof CallEventMap>(event: K, callback: Handler<CallEventMap[K]>): void {
    this.#listeners.add(event, callback);
  }

  removeEventListener<K extends keyof CallEventMap>(event: K, callback?: Handler<CallEventMap[K]>): void {
    this.#listeners.remove(event, callback);
  }

  /** @internal The transport's format: links into the call convert to it. */
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return this.#transport.format;
  }

  /** @internal */
  receiveMedia(frame: Uint8Array, _link: Link): void {
    if (this.#state === 'CONNECTED') this.#transport.sendAudio(frame);
  }

  /** @internal The session ends the call: close the transport without raising Disconnected. */
  shutdown(reason: CallEndReason): void {
    this.#quiet = true;
    this.#transport.close(reason);
    this.#ended(reason);
  }

  readonly #onAudio = (frame: Uint8Array): void => {
    if (this.#state === 'CONNECTED') this.emitMedia(frame, this.#transport.format);
  };

  readonly #onControl = (message: CallerControl): void => {
    const name = CallEvents.MessageReceived;
    this.#emit(name, { ...this.#base(name), text: JSON.stringify(message), headers: {} });
  };

  readonly #onClose = (reason: CallEndReason): void => {
    this.#ended(reason);
  };

  readonly #onError = (error: Parameters<ScenarioScope['reportError']>[0]): void => {
    this.#scope.reportError(error, { source: 'transport' });
  };

  #ended(reason: CallEndReason): void {
    if (this.#state === 'TERMINATED') return;
    const wasConnected = this.#connectedAt > 0;
    this.#setState('TERMINATED');
    const t = this.#transport;
    t.off('audio', this.#onAudio);
    t.off('control', this.#onControl);
    t.off('close', this.#onClose);
    t.off('error', this.#onError);
    // Unlink first: a WebSocket fed by this call sends its `stop` before the scenario hears of the end.
    this.detachAll();
    if (!this.#quiet) {
      const name = CallEvents.Disconnected;
      const duration = wasConnected ? Math.round((Date.now() - this.#connectedAt) / 1000) : 0;
      this.#emit(name, {
        ...this.#base(name),
        headers: {},
        internalCode: 200,
        reason,
        duration,
        cost: 0,
        direction: 'incoming',
      });
    }
    this.#onEnded(this, reason);
  }

  #setState(next: CallState): void {
    const oldState = this.#state;
    this.#state = next;
    if (next === 'TERMINATED' && this.#quiet) return;
    const name = CallEvents.StateChanged;
    this.#emit(name, { ...this.#base(name), oldState, newState: next });
  }

  #base(name: string): CallEventBase {
    return { call: this, name, id: this.#init.id };
  }

  #emit<K extends keyof CallEventMap & string>(event: K, payload: CallEventMap[K]): void {
    this.#listeners.emit(this.#scope, event, payload, this);
  }
}

/** `text` as a message object when it is JSON for an object. */
function jsonMessage(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith('{')) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
