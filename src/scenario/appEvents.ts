/**
 * Payloads of the session-level `AppEvents` (spec/voxengine.md §6). Fields VoxEngine has and voxgate cannot fill
 * (account and application ids, log URLs) are present with empty values, so scenarios that read them still run.
 */
import type { Call } from './call.js';
import type { AppEvents } from './enums.js';
import type { WebSocket } from './websocket.js';

interface AppEventBase {
  /** The event name, e.g. `'Application.Started'`. */
  name: string;
}

export interface AppStartedEvent extends AppEventBase {
  /** HTTP base URL of this session (incoming WebSockets connect below it, with `http` → `ws`). */
  accessURL: string;
  accessSecureURL: string;
  accountId: number;
  applicationId: number;
  logURL: string;
  /** voxgate: the session id (a UUID). */
  sessionId: string;
  conference_name: string;
}

export interface AppCallAlertingEvent extends AppEventBase {
  call: Call;
  callerid: string;
  destination: string;
  toURI: string;
  fromURI: string;
  displayName: string;
  /** Only `X-` headers, as VoxEngine does. */
  headers: Record<string, string>;
  customData?: string;
  scheme: string;
}

export type AppTerminatingEvent = AppEventBase;
export type AppTerminatedEvent = AppEventBase;

export interface AppHttpRequestEvent extends AppEventBase {
  method: string;
  path: string;
  content: string;
  /** Only `X-` headers. */
  headers: { key: string; value: string }[];
}

export interface AppWebSocketEvent extends AppHttpRequestEvent {
  websocket: WebSocket;
}

export interface AppNewWebSocketFailedEvent extends AppHttpRequestEvent {
  reason: string;
}

export type AppEventMap = {
  [AppEvents.Started]: AppStartedEvent;
  [AppEvents.CallAlerting]: AppCallAlertingEvent;
  [AppEvents.Terminating]: AppTerminatingEvent;
  [AppEvents.Terminated]: AppTerminatedEvent;
  [AppEvents.HttpRequest]: AppHttpRequestEvent;
  [AppEvents.WebSocket]: AppWebSocketEvent;
  [AppEvents.NewWebSocketFailed]: AppNewWebSocketFailedEvent;
};
