import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { VoxgateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AudioFormat } from '../media/format.js';
import { CallEvents } from '../scenario/enums.js';
import type { CallEndReason, CallerControl } from '../transports/types.js';
import { type VapiTransportOptions, VapiWebSocketTransport } from '../transports/vapiWebSocket.js';
import { newToken } from './auth.js';
import { CallMessages, endOfCallReport, statsOf } from './callMessages.js';
import type { ServerConfig } from './config.js';
import type { CallMessage, CallRecord, CallRegistry } from './registry.js';

/**
 * One call on this process, from `POST /call` to its end: the glue between the caller's transport, the scenario
 * session and the Vapi client messages. It owns every timer the call needs (token expiry, idle, hang notice) and
 * clears them all when the call ends, whoever ends it.
 */

/** What the glue needs from a scenario session (the runtime's `Session`). */
export interface CallSession {
  terminate(reason: CallEndReason): void;
  on(event: 'terminated', listener: (info: { reason: CallEndReason }) => void): unknown;
  on(event: 'error', listener: (error: VoxgateError) => void): unknown;
  off(event: 'terminated', listener: (info: { reason: CallEndReason }) => void): unknown;
  off(event: 'error', listener: (error: VoxgateError) => void): unknown;
  /** A VoxEngine incoming WebSocket for this session's URL. */
  acceptWebSocket?(ws: WebSocket, req: IncomingMessage): void;
  /** The scenario's Call: the glue learns from it when the scenario answers. */
  readonly call?: { addEventListener(event: typeof CallEvents.Connected, callback: () => void): void };
}

export type SessionStarter = (call: LiveCall, transport: VapiWebSocketTransport) => CallSession;

export interface LiveCallDeps {
  config: ServerConfig;
  registry: CallRegistry;
  logger: Logger;
  startSession: SessionStarter;
  transportOptions: VapiTransportOptions;
  /** Called once when the call has ended and its session is gone. */
  onEnded: (call: LiveCall) => void;
}

export type LiveCallState = 'queued' | 'connected' | 'ended';

/**
 * A session ends itself once its call has ended (after the scenario's Disconnected handlers). If it has not
 * within this time, the glue terminates it, so nothing a scenario opened outlives its call by a second.
 */
const SESSION_END_WAIT_MS = 500;

export class LiveCall {
  readonly id: string;
  readonly format: AudioFormat;
  readonly scenario: string;
  readonly createdAt: number;
  readonly log: Logger;
  readonly messages: CallMessages;
  /** Final transcript lines, in Vapi's `artifact.messages` shape. */
  readonly conversation: CallMessage[] = [];
  /** Resolves once the call has ended and its session has terminated (or stopped answering). */
  readonly ended: Promise<void>;
  customData: string | undefined;
  /** Secret path segment of this call's session URL (`/session/<key>`), for VoxEngine incoming WebSockets. */
  readonly sessionKey: string;
  /** The base URL clients reached us at when the call was made. */
  readonly publicBase: string;
  #state: LiveCallState = 'queued';
  #endedReason: CallEndReason | undefined;
  #startedAt = 0;
  #endedAt = 0;
  #transport: VapiWebSocketTransport | null = null;
  #session: CallSession | null = null;
  #expiryTimer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #hangTimer: NodeJS.Timeout | null = null;
  #sessionWait: NodeJS.Timeout | null = null;
  #hangFramesOut = 0;
  /** The call has ended and its session is gone (or was given up on). */
  #done = false;
  #resolveEnded!: () => void;
  readonly #deps: LiveCallDeps;

  constructor(record: CallRecord, format: AudioFormat, publicBase: string, deps: LiveCallDeps) {
    this.id = record.id;
    this.publicBase = publicBase;
    this.sessionKey = newToken();
    this.format = format;
    this.scenario = record.scenario;
    this.createdAt = Date.parse(record.createdAt);
    this.#deps = deps;
    this.log = deps.logger.child({ callId: record.id });
    this.messages = new CallMessages((m) => this.#transport?.sendMessage(m));
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    const ttl = record.tokenExpiresAt - Date.now();
    this.#expiryTimer = setTimeout(this.#onTokenExpired, Math.max(0, ttl));
  }

  get state(): LiveCallState {
    return this.#state;
  }

  get endedReason(): CallEndReason | undefined {
    return this.#endedReason;
  }

  get transport(): VapiWebSocketTransport | null {
    return this.#transport;
  }

  get session(): CallSession | null {
    return this.#session;
  }

  /** The session's HTTP base URL; incoming VoxEngine WebSockets connect below it (with ws:// or wss://). */
  get accessUrl(): string {
    return `${this.publicBase}/session/${this.sessionKey}`;
  }

  /** The caller's socket arrived with a valid token: start the wire and the scenario. */
  connect(ws: WebSocket): void {
    if (this.#state !== 'queued') {
      ws.close(1008, 'call not available');
      return;
    }
    this.#state = 'connected';
    this.#clear('expiry');
    this.#startedAt = Date.now();
    const transport = new VapiWebSocketTransport(ws, this.format, {
      ...this.#deps.transportOptions,
      logger: this.log,
      onMessageSent: this.#onMessageSent,
      onClosing: this.#onClosing,
    });
    this.#transport = transport;
    transport.on('control', this.#onControl);
    transport.on('error', this.#onTransportError);
    transport.on('close', this.#onTransportClose);
    // Ringing until the scenario answers: audio flows (and the client hears `in-progress`) from then on.
    this.#update({ status: 'ringing', startedAt: new Date(this.#startedAt).toISOString() });
    this.log.info({ format: `${this.format.encoding}/${this.format.sampleRate}` }, 'call connected');
    this.#scheduleIdle(this.#deps.config.timeouts.idleMs);
    let session: CallSession;
    try {
      session = this.#deps.startSession(this, transport);
    } catch (err) {
      this.log.error({ err }, 'scenario session failed to start');
      this.end('scenario-terminated');
      return;
    }
    this.#session = session;
    session.on('error', this.#onSessionError);
    session.on('terminated', this.#onSessionTerminated);
    if (session.call === undefined) this.#onAnswered();
    else session.call.addEventListener(CallEvents.Connected, this.#onAnswered);
  }

  #onAnswered = (): void => {
    if (this.#state !== 'connected') return;
    this.#update({ status: 'in-progress' });
    this.messages.statusUpdate('in-progress');
  };

  /**
   * Live Call Control over HTTP: the same messages as on the socket. `end-call` ends the call; the others reach
   * the scenario exactly as if the caller had sent them.
   */
  control(message: CallerControl): void {
    if (message.type === 'end-call') {
      this.end('api-ended-call');
      return;
    }
    this.#transport?.emit('control', message);
  }

  /**
   * A message the scenario sent its caller (`call.sendMessage`). Vapi's client messages are built here, so they
   * have exactly the server's shapes: `transcript` (`role`, `transcriptType`, `transcript`), `speech-update`
   * (`role`, `status`; the turn is counted here) and `user-interrupted` (the interrupted turn is filled in), each
   * with its timestamp; a malformed one is dropped with a warning. `status-update` and `end-of-call-report` are
   * the server's own and are dropped. Anything else goes as it is.
   */
  scenarioMessage(message: Record<string, unknown>): void {
    if (this.#state !== 'connected') return;
    const { type, role } = message;
    switch (type) {
      case 'transcript': {
        const kind = message.transcriptType;
        const text = message.transcript;
        if (!isRole(role) || typeof text !== 'string' || (kind !== 'final' && kind !== 'partial')) break;
        this.messages.transcript(role, text, kind === 'final');
        return;
      }
      case 'speech-update': {
        const status = message.status;
        if (!isRole(role) || (status !== 'started' && status !== 'stopped')) break;
        this.messages.speechUpdate(role, status);
        return;
      }
      case 'user-interrupted':
        this.messages.userInterrupted();
        return;
      case 'status-update':
      case 'end-of-call-report':
        break;
      default:
        this.messages.raw(message);
        return;
    }
    this.log.warn({ type: String(type) }, 'scenario message dropped: not a valid client message');
  }

  /** Ends the call: final messages to the caller, socket closed, session terminated, timers cleared. Idempotent. */
  end(reason: CallEndReason): void {
    if (this.#state === 'ended') return;
    const wasConnected = this.#state === 'connected';
    this.#state = 'ended';
    this.#endedReason = reason;
    this.#endedAt = Date.now();
    this.#clear('expiry');
    this.#clear('idle');
    this.#clear('hang');
    // Closing the transport runs #onClosing first, which sends the last messages while the socket is open.
    this.#transport?.close(reason);
    this.#update({
      status: 'ended',
      endedReason: reason,
      endedAt: new Date(this.#endedAt).toISOString(),
      ...(this.#transport === null ? {} : { stats: statsOf(this.#transport.counters) }),
    });
    this.log.info({ reason, durationMs: wasConnected ? this.#endedAt - this.#startedAt : 0 }, 'call ended');
    if (this.#session === null || this.#done) {
      this.#finished();
      return;
    }
    // The session has seen its call end (Disconnected) and terminates itself shortly; make sure it does.
    this.#sessionWait = setTimeout(this.#forceTerminate, SESSION_END_WAIT_MS);
  }

  #forceTerminate = (): void => {
    this.#sessionWait = null;
    const session = this.#session;
    if (session === null) return;
    this.log.debug({ waitedMs: SESSION_END_WAIT_MS }, 'terminating the scenario session');
    try {
      session.terminate(this.#endedReason ?? 'api-ended-call');
    } catch (err) {
      this.log.error({ err }, 'scenario session failed to terminate');
    }
    // A session that still has not reported its end is dropped: the call is over either way.
    if (this.#session !== null) this.#finished();
  };

  /** The end-of-call report, as sent on the socket before it closes. */
  report(): Record<string, unknown> {
    const endedAt = this.#endedAt || Date.now();
    return endOfCallReport({
      id: this.id,
      endedReason: this.#endedReason,
      startedAt: this.#startedAt || endedAt,
      endedAt,
      conversation: this.conversation,
      ...(this.#transport === null ? {} : { stats: statsOf(this.#transport.counters) }),
    });
  }

  #onClosing = (reason: CallEndReason): void => {
    // The caller may have closed first (then nothing is sent); otherwise this is the last word on the socket.
    // When the scenario closed the transport itself, end() runs right after this, from the `close` event.
    if (this.#state !== 'ended') {
      this.#endedReason = reason;
      this.#endedAt = Date.now();
    }
    this.messages.statusUpdate('ended', reason);
    this.#transport?.sendMessage(this.report());
  };

  #onTransportClose = (reason: CallEndReason): void => {
    this.end(reason);
  };

  #onControl = (message: CallerControl): void => {
    if (message.type === 'end-call') {
      this.end('customer-ended-call');
      return;
    }
    const expectsReply =
      message.type === 'say' ||
      (message.type === 'add-message' && message.triggerResponseEnabled !== false) ||
      (message.type === 'control' && message.control === 'say-first-message');
    if (expectsReply) this.#armHang();
  };

  #onTransportError = (error: VoxgateError): void => {
    this.log.debug({ code: error.code }, 'caller input refused');
  };

  #onSessionError = (error: VoxgateError): void => {
    this.log.warn({ code: error.code, err: error }, 'scenario error');
  };

  #onSessionTerminated = (): void => {
    if (this.#state !== 'ended') {
      this.end('scenario-terminated');
      return;
    }
    this.#finished();
  };

  #onMessageSent = (message: Record<string, unknown>): void => {
    const type = message.type;
    if (type === 'speech-update') {
      // The user finished a turn: a reply is due. The assistant started one: it is not hanging.
      if (message.role === 'user' && message.status === 'stopped') this.#armHang();
      else if (message.role === 'assistant' && message.status === 'started') this.#clear('hang');
    }
    if (
      (type === 'transcript' || type === 'transcript[transcriptType="final"]') &&
      message.transcriptType === 'final'
    ) {
      const text = message.transcript;
      if (typeof text !== 'string') return;
      const now = Date.now();
      const line: CallMessage = {
        role: message.role === 'assistant' ? 'bot' : 'user',
        message: text,
        time: now,
        secondsFromStart: (now - (this.#startedAt || now)) / 1000,
      };
      this.conversation.push(line);
      this.#deps.registry.appendMessage(this.id, line).catch(this.#storeFailed);
    }
  };

  #onTokenExpired = (): void => {
    this.#expiryTimer = null;
    if (this.#state === 'queued') this.end('customer-did-not-answer');
  };

  #scheduleIdle(delayMs: number): void {
    if (delayMs <= 0 || this.#state !== 'connected') return;
    this.#idleTimer = setTimeout(this.#checkIdle, delayMs);
  }

  #checkIdle = (): void => {
    this.#idleTimer = null;
    const transport = this.#transport;
    if (transport === null || this.#state !== 'connected') return;
    const idleMs = this.#deps.config.timeouts.idleMs;
    const quiet = performance.now() - transport.lastActivity;
    if (quiet >= idleMs) this.end('idle-timeout');
    else this.#scheduleIdle(Math.ceil(idleMs - quiet));
  };

  /** Starts the hang notice: if no reply audio reaches the caller in time, a `hang` message says so. */
  #armHang(): void {
    if (this.#state !== 'connected' || this.#transport === null) return;
    this.#clear('hang');
    this.#hangFramesOut = this.#transport.counters.framesOut;
    this.#hangTimer = setTimeout(this.#onHang, this.#deps.config.timeouts.hangNoticeMs);
  }

  #onHang = (): void => {
    this.#hangTimer = null;
    const transport = this.#transport;
    if (transport === null || this.#state !== 'connected') return;
    if (transport.counters.framesOut === this.#hangFramesOut) this.messages.hang();
  };

  #clear(which: 'expiry' | 'idle' | 'hang'): void {
    const timer =
      which === 'expiry' ? this.#expiryTimer : which === 'idle' ? this.#idleTimer : this.#hangTimer;
    if (timer === null) return;
    clearTimeout(timer);
    if (which === 'expiry') this.#expiryTimer = null;
    else if (which === 'idle') this.#idleTimer = null;
    else this.#hangTimer = null;
  }

  #finished(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#sessionWait !== null) {
      clearTimeout(this.#sessionWait);
      this.#sessionWait = null;
    }
    const session = this.#session;
    if (session !== null) {
      session.off('terminated', this.#onSessionTerminated);
      session.off('error', this.#onSessionError);
    }
    this.#session = null;
    this.#deps.onEnded(this);
    this.#resolveEnded();
  }

  #update(patch: Partial<CallRecord>): void {
    this.#deps.registry.update(this.id, patch).catch(this.#storeFailed);
  }

  #storeFailed = (err: unknown): void => {
    this.log.error({ err }, 'call registry update failed');
  };
}

function isRole(value: unknown): value is 'user' | 'assistant' {
  return value === 'user' || value === 'assistant';
}
