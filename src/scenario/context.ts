/**
 * The session a piece of scenario code belongs to, and the one function through which every scenario callback
 * runs. Scenario objects (VoxEngine, WebSocket, Call) find their session through an AsyncLocalStorage, so the
 * same module-level `VoxEngine` acts on the right call inside handlers and their async continuations.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes, UsageError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';

/** Limits that scenario objects enforce. Every one is an option of `startSession` with a safe default. */
export interface ScenarioLimits {
  /** Messages a WebSocket queues while it connects; past it they are dropped (VG_ERR_QUEUE_FULL). */
  maxQueuedMessages: number;
  /** Largest text frame a WebSocket peer may send; bigger closes the socket with 1009 (VG_ERR_FRAME_TOO_LARGE). */
  maxMessageBytes: number;
  /** Inbound audio buffered per stream; the excess is dropped and counted (VG_ERR_AUDIO_BUFFER_FULL). */
  maxBufferedMs: number;
  /** Time without inbound audio after which MEDIA_ENDED fires. */
  mediaEndAfterMs: number;
  /** Frames an inbound stream sends ahead of real time. */
  leadFrames: number;
  /** Incoming WebSockets per session beyond one per call (VoxEngine allows calls + 3). */
  extraIncomingWebSockets: number;
  /** Opening handshake timeout of outgoing WebSockets (VG_ERR_CONNECT_TIMEOUT). */
  connectTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<ScenarioLimits> = Object.freeze({
  maxQueuedMessages: 500,
  maxMessageBytes: 1 << 20,
  maxBufferedMs: 10_000,
  mediaEndAfterMs: 1000,
  leadFrames: 3,
  extraIncomingWebSockets: 3,
  connectTimeoutMs: 10_000,
});

/** Something a session opened and must close when it ends (a WebSocket, its paced streams). */
export interface SessionResource {
  closeForSession(): void;
}

/** What scenario objects need from their session. `Session` implements it. */
export interface ScenarioScope {
  readonly id: string;
  readonly log: Logger;
  readonly limits: Readonly<ScenarioLimits>;
  /** False once the session is terminating: scenario events are no longer delivered. */
  readonly active: boolean;
  /** Logs `error` with the session's ids and surfaces it as the session's `error` event. */
  reportError(error: VoxgateError, fields?: LogFields): void;
  track(resource: SessionResource): void;
  untrack(resource: SessionResource): void;
  /** Runs `fn` after `ms` (0: on the next turn of the event loop); cancelled if the session ends first. */
  defer(fn: () => void, ms?: number): void;
}

const storage = new AsyncLocalStorage<ScenarioScope>();

/** The session whose code is running now, if any. */
export function currentScope(): ScenarioScope | undefined {
  return storage.getStore();
}

/** The current session, or a UsageError naming `what` that needs one. */
export function requireScope(what: string): ScenarioScope {
  const scope = storage.getStore();
  if (scope === undefined) {
    throw new UsageError(
      ErrorCodes.INVALID_STATE,
      `${what} can only be used while a call's session runs: call it inside a VoxEngine event handler`,
    );
  }
  return scope;
}

/** Runs `fn` as code of `scope`'s session. */
export function runInScope<T>(scope: ScenarioScope, fn: () => T): T {
  return storage.run(scope, fn);
}

function call(handler: (event: never) => unknown, thisArg: unknown, event: unknown): unknown {
  return handler.call(thisArg, event as never);
}

/**
 * The safe emit: every scenario callback runs through here. The handler runs in its session's context; a throw
 * (or a rejected promise from an async handler) is logged with the session's ids and surfaced as the session's
 * `error` event (VG_ERR_HANDLER_THREW), so the audio keeps flowing and other sessions never notice. Once the
 * session is terminating only `force`d events (Terminating, Terminated) are delivered.
 */
export function invokeHandler(
  scope: ScenarioScope,
  handler: (event: never) => unknown,
  thisArg: unknown,
  event: unknown,
  label: string,
  force = false,
): void {
  if (!force && !scope.active) return;
  let result: unknown;
  try {
    result = storage.run(scope, call, handler, thisArg, event);
  } catch (err) {
    reportThrow(scope, err, label);
    return;
  }
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    (result as PromiseLike<unknown>).then(undefined, (err: unknown) => reportThrow(scope, err, label));
  }
}

function reportThrow(scope: ScenarioScope, err: unknown, label: string): void {
  const message = err instanceof Error ? err.message : String(err);
  const error = new UsageError(
    ErrorCodes.HANDLER_THREW,
    `a scenario handler for ${label} threw: ${message}`,
    {
      cause: err,
      details: { event: label },
    },
  );
  scope.reportError(error, { event: label });
}
