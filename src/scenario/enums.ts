/**
 * VoxEngine's enums with their exact string and number values (spec/voxengine.md §3, §5, §6). They are frozen
 * objects rather than TypeScript `enum`s so that the values are plain strings a JavaScript scenario can compare,
 * and each has a type of the same name: the union of its values.
 */

/** Session-level events. The `'AppEvents.'` vs `'Application.'` prefix mix is VoxEngine's own; keep it. */
export const AppEvents = Object.freeze({
  Started: 'Application.Started',
  CallAlerting: 'Application.CallAlerting',
  Terminating: 'Application.Terminating',
  Terminated: 'Application.Terminated',
  HttpRequest: 'Application.HttpRequest',
  WebSocket: 'AppEvents.NewWebSocketConnection',
  NewWebSocketFailed: 'Application.OnNewWebSocketFailed',
} as const);
export type AppEvents = (typeof AppEvents)[keyof typeof AppEvents];

/** Call events. voxgate raises Connected, Disconnected and MessageReceived; the others exist for compatibility. */
export const CallEvents = Object.freeze({
  Connected: 'Call.Connected',
  Disconnected: 'Call.Disconnected',
  Failed: 'Call.Failed',
  Ringing: 'Call.Ringing',
  AudioStarted: 'Call.AudioStarted',
  PlaybackFinished: 'Call.PlaybackFinished',
  ToneReceived: 'Call.ToneReceived',
  MessageReceived: 'Call.MessageReceived',
  StateChanged: 'Call.StateChanged',
} as const);
export type CallEvents = (typeof CallEvents)[keyof typeof CallEvents];

export const WebSocketEvents = Object.freeze({
  OPEN: 'WebSocket.Open',
  CLOSE: 'WebSocket.Close',
  MESSAGE: 'WebSocket.Message',
  ERROR: 'WebSocket.Error',
  CREATED: 'WebSocket.Created',
  MEDIA_STARTED: 'WebSocket.MediaEventStarted',
  MEDIA_ENDED: 'WebSocket.MediaEventEnded',
} as const);
export type WebSocketEvents = (typeof WebSocketEvents)[keyof typeof WebSocketEvents];

/** String values, not the browser's 0..3. */
export const WebSocketReadyState = Object.freeze({
  CLOSED: 'closed',
  CLOSING: 'closing',
  CONNECTING: 'connecting',
  OPEN: 'open',
} as const);
export type WebSocketReadyState = (typeof WebSocketReadyState)[keyof typeof WebSocketReadyState];

/** Note the `CLOSED_NO_STATUS` spelling. */
export const WebSocketCloseCode = Object.freeze({
  CLOSE_NORMAL: 1000,
  CLOSE_GOING_AWAY: 1001,
  CLOSE_PROTOCOL_ERROR: 1002,
  CLOSE_UNSUPPORTED: 1003,
  CLOSED_NO_STATUS: 1005,
  CLOSE_ABNORMAL: 1006,
  CLOSE_UNSUPPORTED_PAYLOAD: 1007,
  CLOSE_POLICY_VIOLATION: 1008,
  CLOSE_TOO_LARGE: 1009,
  CLOSE_MANDATORY_EXTENSION: 1010,
  CLOSE_SERVER_ERROR: 1011,
  CLOSE_SERVICE_RESTART: 1012,
  CLOSE_TRY_AGAIN_LATER: 1013,
  CLOSE_BAD_GATEWAY: 1014,
  CLOSE_TLS_FAIL: 1015,
} as const);
export type WebSocketCloseCode = (typeof WebSocketCloseCode)[keyof typeof WebSocketCloseCode];

/**
 * The wire `encoding` strings. Both member sets exist: the newest typings' `PCM16_8KHZ`/`PCM16_16KHZ` and the
 * older `PCM8`/`PCM16` aliases, with equal values. OPUS is listed but refused (VG_ERR_UNSUPPORTED_ENCODING).
 */
export const WebSocketAudioEncoding = Object.freeze({
  PCM16_8KHZ: 'PCM8',
  PCM16_16KHZ: 'PCM16',
  PCM8: 'PCM8',
  PCM16: 'PCM16',
  ALAW: 'ALAW',
  ULAW: 'ULAW',
  OPUS: 'OPUS',
} as const);
export type WebSocketAudioEncoding = (typeof WebSocketAudioEncoding)[keyof typeof WebSocketAudioEncoding];

/** `call.state()` values. */
export type CallState = 'ALERTING' | 'PROGRESSING' | 'CONNECTED' | 'TERMINATED';
