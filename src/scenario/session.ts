/**
 * One session per call: the scenario's handlers run in it, every object the scenario opens belongs to it, and
 * when it ends (no calls left, `VoxEngine.terminate()`, or `terminate()` from the server) `Terminating` then
 * `Terminated` fire and everything it opened is closed: calls, WebSockets, paced streams, timers.
 *
 * Two audiences (mediasoup's pattern): the owner (the server) listens on the session itself (`error`,
 * `terminated`); monitoring listens on `observer`, whose listeners can never change call behaviour.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket as WsSocket } from 'ws';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes, toVoxgateError, UsageError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import { createLogger } from '../log.js';
import type { CallEndReason, CallTransport } from '../transports/types.js';
import type { AppEventMap, AppHttpRequestEvent } from './appEvents.js';
import { Call } from './call.js';
import type { ScenarioLimits, ScenarioScope, SessionResource } from './context.js';
import { DEFAULT_LIMITS, invokeHandler } from './context.js';
import type { CompatHost, ScenarioDefinition } from './definition.js';
import { AppEvents } from './enums.js';
import type { Listeners } from './listeners.js';
import { assertHandler } from './listeners.js';
import { checkCustomData } from './params.js';
import { WebSocket } from './websocket.js';

export interface SessionOptions {
  /** The caller's leg; the session's Call is created around it. */
  transport: CallTransport;
  /** The call id the owner uses (e.g. the HTTP API's); a UUID by default. Also `call.id()`. */
  callId?: string;
  callerid?: string;
  destination?: string;
  /** Initial `VoxEngine.customData()` and `call.customData()` (at most 200 bytes). */
  customData?: string;
  /** Headers of the call; only `X-` ones reach the scenario (as VoxEngine does). */
  headers?: Record<string, string>;
  /** HTTP base URL of this session: the server routes WebSocket upgrades below it to `acceptWebSocket`. */
  accessUrl?: string;
  /** Values for `VoxEngine.getSecretValue(name)`. */
  secrets?: Readonly<Record<string, string>>;
  /**
   * Where the scenario's `call.sendMessage(text)` goes, as a JSON object (the server shapes and records Vapi
   * client messages there). Default: `transport.sendMessage`.
   */
  sendMessage?: (message: Record<string, unknown>) => void;
  logger?: Logger;
  limits?: Partial<ScenarioLimits>;
}

export type SessionState = 'starting' | 'running' | 'terminating' | 'terminated';

export interface SessionEvents {
  /** Something went wrong in the session (a handler threw, a peer sent bad input); the session goes on. */
  error: [error: VoxgateError];
  /** The session has ended and closed everything it opened. Fires once. */
  terminated: [info: { reason: CallEndReason }];
}

export interface SessionObserverEvents {
  started: [];
  /** A `Logger.write` line (may hold transcripts: treat as PII). */
  log: [text: string];
  error: [error: VoxgateError];
  terminated: [info: { reason: CallEndReason }];
}

export class Session extends EventEmitter<SessionEvents> implements ScenarioScope, CompatHost {
  readonly id: string = randomUUID();
  readonly call: Call;
  /** For monitoring only: its listeners' errors are swallowed (and logged) so they cannot affect the call. */
  readonly observer = new EventEmitter<SessionObserverEvents>();
  readonly log: Logger;
  readonly limits: Readonly<ScenarioLimits>;
  readonly scenarioName: string;
  readonly #definition: ScenarioDefinition;
  readonly #options: SessionOptions;
  readonly #app: Listeners<AppEventMap>;
  readonly #calls = new Set<Call>();
  readonly #resources = new Set<SessionResource>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: SessionState = 'starting';
  #customData: string | undefined;
  #incomingAllowed = false;
  #incomingOpen = 0;

  /** @internal Use `startSession()`. */
  constructor(definition: ScenarioDefinition, options: SessionOptions) {
    super();
    this.#definition = definition;
    this.#options = options;
    this.scenarioName = definition.name;
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    const callId = options.callId ?? randomUUID();
    this.log = (options.logger ?? createLogger({})).child({
      sessionId: this.id,
      callId,
      scenario: definition.name,
    });
    this.#customData =
      options.customData === undefined ? undefined : checkCustomData(options.customData, 'customData');
    this.#app = definition.appListeners.clone();
    this.call = new Call(
      this,
      {
        id: callId,
        transport: options.transport,
        callerid: options.callerid ?? '',
        destination: options.destination ?? '',
        customData: this.#customData,
        headers: xHeaders(options.headers),
        sendMessage: options.sendMessage ?? ((m) => options.transport.sendMessage(m)),
      },
      this.#callEnded,
    );
    this.#calls.add(this.call);
    this.defer(() => this.#start());
  }

  get state(): SessionState {
    return this.#state;
  }

  get active(): boolean {
    return this.#state === 'starting' || this.#state === 'running';
  }

  /**
   * Ends the session: `Terminating`, then every call is closed with `reason` (no Disconnected), every WebSocket,
   * paced stream and timer is closed, then `Terminated` and the `terminated` event. Idempotent.
   */
  terminate(reason: CallEndReason = 'api-ended-call'): void {
    if (!this.active) return;
    const started = this.#state === 'running';
    this.#state = 'terminating';
    if (started) this.#emitApp(AppEvents.Terminating, { name: AppEvents.Terminating }, true);
    for (const call of this.#calls) call.shutdown(reason);
    this.#calls.clear();
    for (const resource of this.#resources) {
      try {
        resource.closeForSession();
      } catch (err) {
        this.log.error({ code: ErrorCodes.INTERNAL, err }, 'closing a session resource failed');
      }
    }
    this.#resources.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#state = 'terminated';
    if (started) this.#emitApp(AppEvents.Terminated, { name: AppEvents.Terminated }, true);
    this.log.info({ reason }, 'session terminated');
    this.#observe('terminated', { reason });
    this.emit('terminated', { reason });
  }

  /**
   * Hands over a WebSocket a third party opened to this session's URL (the server routes the upgrade here).
   * Accepted only after `VoxEngine.allowWebSocketConnections()`, and at most calls + 3 at a time
   * (`AppEvents.NewWebSocketFailed` past that); the scenario then gets `AppEvents.WebSocket`.
   */
  acceptWebSocket(ws: WsSocket, request: IncomingMessage): void {
    if (!this.active) {
      ws.close(1001, 'session ended');
      return;
    }
    const info = requestInfo(request);
    if (!this.#incomingAllowed) {
      this.log.warn(
        { code: ErrorCodes.INVALID_STATE },
        'incoming websocket refused: not allowed by the scenario',
      );
      ws.close(1008, 'websocket connections not allowed');
      return;
    }
    if (this.#incomingOpen >= 1 + this.limits.extraIncomingWebSockets) {
      this.log.warn(
        { code: ErrorCodes.TOO_MANY_WEBSOCKETS, open: this.#incomingOpen },
        'incoming websocket refused: too many',
      );
      ws.close(1013, 'too many websockets');
      this.#emitApp(AppEvents.NewWebSocketFailed, {
        ...info,
        name: AppEvents.NewWebSocketFailed,
        reason: 'too many websockets',
      });
      return;
    }
    this.#incomingOpen++;
    ws.once('close', () => this.#incomingOpen--);
    const url = sessionSocketUrl(this.#options.accessUrl, request);
    const websocket = new WebSocket(url, undefined, { scope: this, socket: ws });
    this.#emitApp(AppEvents.WebSocket, { ...info, name: AppEvents.WebSocket, websocket });
  }

  /** @internal ScenarioScope. */
  reportError(error: VoxgateError, fields: LogFields = {}): void {
    this.log.warn({ code: error.code, err: error, ...fields }, 'session error');
    this.#observe('error', error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal */
  track(resource: SessionResource): void {
    if (!this.active) throw new UsageError(ErrorCodes.INVALID_STATE, 'the session has ended');
    this.#resources.add(resource);
  }

  /** @internal */
  untrack(resource: SessionResource): void {
    this.#resources.delete(resource);
  }

  /** @internal */
  defer(fn: () => void, ms = 0): void {
    if (this.#state === 'terminated') return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        fn();
      } catch (err) {
        this.reportError(toVoxgateError(err), { where: 'deferred' });
      }
    }, ms);
    this.#timers.add(timer);
  }

  /** @internal Session-bound setTimeout/setInterval for compat scenarios: cleared when the session ends. */
  setTimer(callback: unknown, ms: unknown, repeat: boolean, args: unknown[]): NodeJS.Timeout {
    const where = repeat ? 'setInterval' : 'setTimeout';
    assertHandler(callback, where);
    if (this.#state === 'terminated')
      throw new UsageError(ErrorCodes.INVALID_STATE, `${where}: the session has ended`);
    const delay = Number(ms) || 0;
    const fn = callback as (...a: unknown[]) => unknown;
    const run = (): void => {
      if (!repeat) this.#timers.delete(timer);
      invokeHandler(this, (a: unknown[]) => fn(...a), undefined, args, where);
    };
    const timer = repeat ? setInterval(run, delay) : setTimeout(run, delay);
    this.#timers.add(timer);
    return timer;
  }

  /** @internal */
  clearTimer(handle: unknown): void {
    if (!this.#timers.has(handle as NodeJS.Timeout)) return;
    clearTimeout(handle as NodeJS.Timeout);
    this.#timers.delete(handle as NodeJS.Timeout);
  }

  /** @internal VoxEngine.addEventListener inside a session. */
  addAppListener(event: unknown, handler: unknown): void {
    this.#app.add(event, handler);
  }

  /** @internal */
  removeAppListener(event: unknown, handler?: unknown): void {
    this.#app.remove(event, handler);
  }

  /** @internal VoxEngine.customData. */
  customData(value?: unknown): string {
    if (value !== undefined) this.#customData = checkCustomData(value, 'VoxEngine.customData');
    return this.#customData ?? '';
  }

  /** @internal */
  allowWebSocketConnections(): void {
    this.#incomingAllowed = true;
  }

  /** @internal */
  secret(name: string): string | undefined {
    return this.#options.secrets?.[name];
  }

  /** @internal Logger.write: debug level under a pii key (scenario logs often hold transcripts). */
  writeLog(text: string): void {
    this.log.debug({ 'vg.pii.text': text }, 'scenario log');
    this.#observe('log', text);
  }

  #start(): void {
    if (this.#state !== 'starting') return;
    this.#state = 'running';
    const perSession = this.#definition.perSession;
    if (perSession !== undefined)
      invokeHandler(this, () => perSession(this), undefined, undefined, 'scenario top level');
    const access = this.#options.accessUrl ?? '';
    this.#emitApp(AppEvents.Started, {
      name: AppEvents.Started,
      accessURL: access,
      accessSecureURL: access,
      accountId: 0,
      applicationId: 0,
      logURL: '',
      sessionId: this.id,
      conference_name: '',
    });
    if (this.#app.count(AppEvents.CallAlerting) === 0) {
      this.log.warn(
        { code: ErrorCodes.INVALID_STATE },
        'scenario has no CallAlerting handler: the call is never answered',
      );
    }
    const o = this.#options;
    this.#emitApp(AppEvents.CallAlerting, {
      name: AppEvents.CallAlerting,
      call: this.call,
      callerid: o.callerid ?? '',
      destination: o.destination ?? '',
      toURI: o.destination ?? '',
      fromURI: o.callerid ?? '',
      displayName: '',
      headers: xHeaders(o.headers),
      ...(this.#customData === undefined ? {} : { customData: this.#customData }),
      scheme: this.#options.transport.kind,
    });
    this.#observe('started');
  }

  readonly #callEnded = (call: Call, reason: CallEndReason): void => {
    this.#calls.delete(call);
    // Deferred: the Disconnected handlers' own follow-ups run first, as in VoxEngine.
    if (this.#calls.size === 0 && this.active) this.defer(() => this.terminate(reason));
  };

  #emitApp<K extends keyof AppEventMap & string>(event: K, payload: AppEventMap[K], force = false): void {
    this.#app.emit(this, event, payload, undefined, null, force);
  }

  #observe<K extends keyof SessionObserverEvents>(event: K, ...args: SessionObserverEvents[K]): void {
    try {
      (this.observer.emit as (e: K, ...a: SessionObserverEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ code: ErrorCodes.INTERNAL, err, event }, 'session observer listener threw');
    }
  }
}

/** Only `X-` headers reach scenarios (VoxEngine's rule). */
function xHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (/^x-/i.test(k)) out[k] = v;
  return out;
}

function requestInfo(request: IncomingMessage): Omit<AppHttpRequestEvent, 'name'> {
  const headers: { key: string; value: string }[] = [];
  for (const [key, value] of Object.entries(request.headers)) {
    if (/^x-/i.test(key) && value !== undefined)
      headers.push({ key, value: Array.isArray(value) ? value.join(', ') : value });
  }
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  return { method: request.method ?? 'GET', path, content: '', headers };
}

function sessionSocketUrl(accessUrl: string | undefined, request: IncomingMessage): string {
  const base = accessUrl ?? `http://${request.headers.host ?? 'localhost'}`;
  const url = new URL(request.url ?? '/', base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
