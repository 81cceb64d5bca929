/**
 * `voxgate/voxengine`: the VoxEngine API for scenarios. A TypeScript scenario imports from here and registers its
 * handlers at the top level; a plain JavaScript VoxEngine scenario gets the same objects as globals (compat.ts).
 *
 * @example
 * import { AppEvents, CallEvents, VoxEngine } from 'voxgate/voxengine';
 *
 * VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
 *   const ws = VoxEngine.createWebSocket('wss://example.com/media');
 *   call.addEventListener(CallEvents.Connected, () => VoxEngine.sendMediaBetween(call, ws));
 *   call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
 *   call.answer();
 * });
 */
import { ErrorCodes, UsageError } from '../errors.js';
import type { MediaUnit } from '../graph/unit.js';
import { sendMediaBetween, stopMediaBetween } from '../graph/unit.js';
import { rootLogger } from '../log.js';
import type { AppEventMap } from './appEvents.js';
import { currentScope } from './context.js';
import { loadingDefinition } from './definition.js';
import type { Handler } from './listeners.js';
import { checkUnit } from './params.js';
import { Session } from './session.js';
import type { WebSocketParameters } from './websocket.js';
import { WebSocket } from './websocket.js';

export type * from './appEvents.js';
export type {
  Call,
  CallConnectedEvent,
  CallDisconnectedEvent,
  CallEventMap,
  CallFailedEvent,
  CallMessageReceivedEvent,
  CallStateChangedEvent,
  CallToneReceivedEvent,
} from './call.js';
export type { CallState } from './enums.js';
export {
  AppEvents,
  CallEvents,
  WebSocketAudioEncoding,
  WebSocketCloseCode,
  WebSocketEvents,
  WebSocketReadyState,
} from './enums.js';
export type { ModuleName } from './modules/index.js';
export { Modules, requireModule } from './modules/index.js';
export { OpenAI } from './modules/openai.js';
export { Ultravox } from './modules/ultravox.js';
export type { ClearMediaBufferParameters, SendMediaParameters } from './params.js';
export type {
  WebSocketCloseEvent,
  WebSocketCreatedEvent,
  WebSocketErrorEvent,
  WebSocketEventMap,
  WebSocketMediaEndedEvent,
  WebSocketMediaInfo,
  WebSocketMediaStartedEvent,
  WebSocketMessageEvent,
  WebSocketOpenEvent,
  WebSocketParameters,
} from './websocket.js';
export { WebSocket };

function session(what: string): Session {
  const scope = currentScope();
  if (scope instanceof Session) return scope;
  throw new UsageError(
    ErrorCodes.INVALID_STATE,
    `${what} can only be used while a call's session runs: call it inside a VoxEngine event handler`,
  );
}

/** The VoxEngine namespace. Inside handlers every function acts on the session of the call being handled. */
export const VoxEngine = Object.freeze({
  /**
   * Adds a handler for an AppEvents event. At a scenario's top level it applies to every session; inside a
   * handler, to the current session only. The handler must be a function (VG_ERR_BAD_HANDLER otherwise).
   */
  addEventListener<K extends keyof AppEventMap>(event: K, callback: Handler<AppEventMap[K]>): void {
    const scope = currentScope();
    const loading = loadingDefinition();
    if (scope instanceof Session) scope.addAppListener(event, callback);
    else if (loading !== null) loading.appListeners.add(event, callback);
    else
      throw new UsageError(
        ErrorCodes.INVALID_STATE,
        'VoxEngine.addEventListener: call it at the top level of a scenario being loaded, or inside a handler',
      );
  },

  /** Removes `callback`, or every handler of `event` when no callback is given. */
  removeEventListener<K extends keyof AppEventMap>(event: K, callback?: Handler<AppEventMap[K]>): void {
    const scope = currentScope();
    if (scope instanceof Session) scope.removeAppListener(event, callback);
    else loadingDefinition()?.appListeners.remove(event, callback);
  },

  /** Opens an outgoing WebSocket (`ws://` or `wss://`); `WebSocketEvents.OPEN` follows. */
  createWebSocket(url: string, parameters?: WebSocketParameters): WebSocket {
    return new WebSocket(url, parameters);
  },

  /** Lets third parties connect WebSockets to this session's URL; each arrives as `AppEvents.WebSocket`. */
  allowWebSocketConnections(): void {
    session('VoxEngine.allowWebSocketConnections').allowWebSocketConnections();
  },

  /** Accepted for compatibility; voxgate keeps no WebSocket traces or statistics. */
  enableTraceForIncomingWebsockets(): void {},
  disableTraceForIncomingWebsockets(): void {},
  enableStatisticsForIncomingWebsockets(): void {},
  disableStatisticsForIncomingWebsockets(): void {},

  /** Sends `a`'s audio to `b` and `b`'s to `a`. */
  sendMediaBetween(a: MediaUnit, b: MediaUnit): void {
    sendMediaBetween(checkUnit(a, 'VoxEngine.sendMediaBetween'), checkUnit(b, 'VoxEngine.sendMediaBetween'));
  },

  /** Removes both directions set up by sendMediaBetween. */
  stopMediaBetween(a: MediaUnit, b: MediaUnit): void {
    stopMediaBetween(checkUnit(a, 'VoxEngine.stopMediaBetween'), checkUnit(b, 'VoxEngine.stopMediaBetween'));
  },

  /**
   * Ends the session: calls are closed, WebSockets and timers too; only Terminating and Terminated fire
   * afterwards. The current handler keeps running (use `return`).
   */
  terminate(): void {
    session('VoxEngine.terminate').terminate('scenario-terminated');
  },

  /** Gets, or sets and returns, the session's custom data (a string of at most 200 UTF-8 bytes). */
  customData(customData?: string): string {
    return session('VoxEngine.customData').customData(customData);
  },

  /** A secret configured for the session (`startSession({secrets})`), or undefined. */
  getSecretValue(name: string): string | undefined {
    return session('VoxEngine.getSecretValue').secret(name);
  },
});

/** VoxEngine's Logger. Lines go to the session log at debug level (they may hold transcripts) and its observer. */
export const Logger = Object.freeze({
  write(text: unknown): void {
    const line = typeof text === 'string' ? text : String(text);
    const scope = currentScope();
    if (scope instanceof Session) scope.writeLog(line);
    else rootLogger.debug({ 'vg.pii.text': line }, 'scenario log');
  },
});
