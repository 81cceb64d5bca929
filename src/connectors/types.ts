/**
 * Leaf types of the connectors: the OpenAI Realtime protocol (from the official `openai` package's GA typings),
 * the transport-layer shapes that `OpenAIRealtimeWebSocket` emits and accepts (mirrors of `@openai/agents-realtime`,
 * kept here so our sources never depend on a dev dependency; `openaiRealtime.types.test.ts` proves they fit), and
 * the VoxEngine-style `{client, data}` event shapes of the media-unit clients. Import with `import type`.
 */
import type { WebSocket } from 'ws';
import type { VoxgateError } from '../errors.js';
import type { Logger } from '../log.js';

export type {
  RealtimeClientEvent,
  RealtimeErrorEvent,
  RealtimeServerEvent,
  ResponseAudioDeltaEvent,
  ResponseCreatedEvent,
  ResponseDoneEvent,
  SessionUpdatedEvent,
} from 'openai/resources/realtime/realtime';

import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';

// ---------------------------------------------------------------------------------------------------------------
// Events: the small typed-emitter contract shared by every connector.

/**
 * Listener arguments for event `K` of map `M`. Names outside the map get `unknown[]`: the transport interface we
 * conform to (`RealtimeTransportLayer`) accepts any event name, so `on` must too; the map's own names stay typed.
 */
export type EventArgs<M, K> = Extract<K extends keyof M ? M[K] : unknown[], unknown[]>;

// ---------------------------------------------------------------------------------------------------------------
// The transport layer (`OpenAIRealtimeWebSocket`), mirroring @openai/agents-realtime 0.20.

export type ApiKey = string | (() => string | Promise<string>);
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export type RealtimeAudioFormatDefinition =
  | { type: 'audio/pcm'; rate: number }
  | { type: 'audio/pcmu' }
  | { type: 'audio/pcma' };
/** Legacy names (`pcm16`, `g711_ulaw`, `g711_alaw`) are accepted and sent as the GA objects. */
export type RealtimeAudioFormat =
  | RealtimeAudioFormatDefinition
  | 'pcm16'
  | 'g711_ulaw'
  | 'g711_alaw'
  | (string & {});

export type RealtimeTracingConfig =
  | { workflow_name?: string; group_id?: string; metadata?: Record<string, unknown> }
  | 'auto';

/** Server or semantic VAD; camelCase keys are sent as snake_case. */
export interface RealtimeTurnDetectionConfig {
  type?: 'semantic_vad' | 'server_vad' | (string & {});
  createResponse?: boolean;
  create_response?: boolean;
  interruptResponse?: boolean;
  interrupt_response?: boolean;
  eagerness?: 'auto' | 'low' | 'medium' | 'high';
  threshold?: number;
  prefixPaddingMs?: number;
  prefix_padding_ms?: number;
  silenceDurationMs?: number;
  silence_duration_ms?: number;
  idleTimeoutMs?: number | null;
  idle_timeout_ms?: number | null;
  [key: string]: unknown;
}

/** A tool offered to the model: function tools are sent as `{type, name, description, parameters}`. */
export interface RealtimeToolDefinition {
  type: string;
  name?: string;
  description?: string;
  parameters?: unknown;
  [key: string]: unknown;
}

/** The session config of `connect({initialSessionConfig})` and `updateSessionConfig`, in the client's camelCase. */
export interface RealtimeSessionConfig {
  model?: string;
  instructions?: string;
  toolChoice?: string | Record<string, unknown>;
  tools?: RealtimeToolDefinition[];
  parallelToolCalls?: boolean;
  reasoning?: { effort?: string };
  tracing?: RealtimeTracingConfig | null;
  /** Sent as-is on top of the built session (escape hatch for fields this mirror does not know). */
  providerData?: Record<string, unknown>;
  prompt?: { promptId: string; version?: string; variables?: Record<string, unknown> };
  outputModalities?: ('text' | 'audio')[];
  voice?: string;
  audio?: {
    input?: {
      format?: RealtimeAudioFormat;
      noiseReduction?: { type: string } | null;
      transcription?: Record<string, unknown> | null;
      turnDetection?: RealtimeTurnDetectionConfig | null;
    } | null;
    output?: { format?: RealtimeAudioFormat; voice?: string; speed?: number } | null;
  };
  /** @deprecated flat (pre-GA client) keys, still accepted. */
  modalities?: ('text' | 'audio')[];
  inputAudioFormat?: RealtimeAudioFormat;
  outputAudioFormat?: RealtimeAudioFormat;
  inputAudioTranscription?: Record<string, unknown>;
  turnDetection?: RealtimeTurnDetectionConfig;
  inputAudioNoiseReduction?: { type: string } | null;
  speed?: number;
}

export interface OpenAIRealtimeWebSocketOptions {
  model?: string;
  apiKey?: ApiKey;
  /** The WebSocket URL; default `wss://api.openai.com/v1/realtime?model=<model>`. Used as given. */
  url?: string;
  /** Builds the socket yourself (headers, proxies); it may be returned already open. */
  createWebSocket?: (options: { url: string; apiKey: string }) => Promise<WebSocket>;
  /** Accepted for API compatibility: an already-open socket from createWebSocket is always detected. */
  skipOpenEventListeners?: boolean;
  /** Accepted for API compatibility; Node never needs it. */
  useInsecureApiKey?: boolean;
  /** voxgate: time allowed for the opening handshake (default 10 s; VG_ERR_CONNECT_TIMEOUT). */
  connectTimeoutMs?: number;
  /** voxgate: where to log (never keys; no transcripts at info level). */
  log?: Logger;
}

export type WebSocketState =
  | { status: 'disconnected'; websocket: undefined }
  | { status: 'connecting' | 'connected'; websocket: WebSocket | undefined };

export interface RealtimeTransportLayerConnectOptions {
  apiKey: ApiKey;
  model?: string;
  url?: string;
  callId?: string;
  initialSessionConfig?: Partial<RealtimeSessionConfig>;
}

export type RealtimeUserInput =
  | string
  | {
      type: 'message';
      role: 'user';
      content: (
        | { type: 'input_text'; text: string }
        | { type: 'input_image'; image: string; providerData?: Record<string, unknown> }
      )[];
    };

export type RealtimeItemStatus = 'in_progress' | 'completed' | 'incomplete';

interface ItemBase {
  itemId: string;
  previousItemId?: string | null;
}

export type RealtimeMessageItem =
  | (ItemBase & { type: 'message'; role: 'system'; content: { type: 'input_text'; text: string }[] })
  | (ItemBase & {
      type: 'message';
      role: 'user';
      status: RealtimeItemStatus;
      content: (
        | { type: 'input_text'; text: string }
        | { type: 'input_audio'; audio?: string | null; transcript: string | null }
      )[];
    })
  | (ItemBase & {
      type: 'message';
      role: 'assistant';
      status: RealtimeItemStatus;
      content: (
        | { type: 'output_text'; text: string }
        | { type: 'output_audio'; audio?: string | null; transcript?: string | null }
      )[];
    });

export interface RealtimeToolCallItem extends ItemBase {
  type: 'function_call';
  status: RealtimeItemStatus;
  arguments: string;
  name: string;
  output: string | null;
}

export interface RealtimeMcpCallItem extends ItemBase {
  type: 'mcp_call' | 'mcp_tool_call';
  status: RealtimeItemStatus;
  arguments: string;
  name: string;
  output: string | null;
}

export interface RealtimeMcpCallApprovalRequestItem {
  itemId: string;
  type: 'mcp_approval_request';
  serverLabel: string;
  name: string;
  arguments: Record<string, unknown>;
  approved?: boolean | null;
}

export type RealtimeItem =
  | RealtimeMessageItem
  | RealtimeToolCallItem
  | RealtimeMcpCallItem
  | RealtimeMcpCallApprovalRequestItem;

export interface TransportToolCallEvent {
  id?: string;
  type: 'function_call';
  name: string;
  callId: string;
  arguments: string;
  previousItemId?: string;
  responseId: string;
}

export interface TransportError {
  type: 'error';
  /** A provider `error` event (the whole server event), or a VoxgateError for socket and protocol failures. */
  error: unknown;
}

/** Any server event, as received (the raw `'*'` event). */
export type TransportEvent = { type: string; [key: string]: unknown };

export interface TransportLayerAudio {
  type: 'audio';
  data: ArrayBuffer;
  responseId: string;
}

export interface TransportLayerTranscriptDelta {
  type: 'transcript_delta';
  itemId: string;
  delta: string;
  responseId: string;
}

export interface TransportLayerOutputTextDelta {
  type: 'output_text_delta';
  itemId: string;
  delta: string;
  responseId: string;
}

/** Token usage of one response, shaped like agents-core's `Usage` input so a session can add it up. */
export interface TransportUsage {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  inputTokensDetails: Record<string, number>[];
  outputTokensDetails: Record<string, number>[];
}

export interface TransportResponseStarted {
  type: 'response_started';
  providerData: Record<string, unknown>;
}

export interface TransportResponseCompleted {
  type: 'response_done';
  response: {
    id: string;
    output: unknown[];
    usage: {
      inputTokens: number;
      outputTokens: number;
      totalTokens: number;
      inputTokensDetails: Record<string, number>;
      outputTokensDetails: Record<string, number>;
    };
  };
}

/** Every GA server event but `error`, under its own wire name (the reference emits each parsed event so). */
type ServerEventsByType = { [E in Exclude<RealtimeServerEvent, { type: 'error' }> as E['type']]: [event: E] };

/** The events of `OpenAIRealtimeWebSocket`: a closed map of the reference client's events. */
export type OpenAIRealtimeEventTypes = ServerEventsByType & {
  '*': [event: TransportEvent];
  error: [error: TransportError];
  connected: [];
  disconnected: [];
  connection_change: [status: ConnectionStatus];
  audio: [event: TransportLayerAudio];
  audio_done: [];
  audio_interrupted: [];
  audio_transcript_delta: [event: TransportLayerTranscriptDelta];
  output_text_delta: [event: TransportLayerOutputTextDelta];
  item_update: [item: RealtimeItem];
  item_deleted: [item: { itemId: string }];
  function_call: [event: TransportToolCallEvent];
  turn_started: [event: TransportResponseStarted];
  turn_done: [event: TransportResponseCompleted];
  usage_update: [usage: TransportUsage];
};

// ---------------------------------------------------------------------------------------------------------------
// Media-unit clients (VoxEngine's `OpenAI.RealtimeAPIClient`, later `Ultravox.WebSocketAPIClient`).

/** `data` of a provider event: `payload` is the parsed provider message, `customEvent` its wire type. */
export interface ConnectorEventData {
  customEvent: string;
  payload: unknown;
  /** voxgate: set on error events (`Error`, `WebSocketError`), the coded error (`VG_ERR_*`). */
  error?: VoxgateError;
}

/** The payload of every provider event a scenario handler receives. */
export interface ConnectorEvent<C> {
  client: C;
  data: ConnectorEventData;
}

/** `X.Events.WebSocketMediaStarted` / `...Ended`: the provider's audio started or ended playing to the units. */
export interface ConnectorMediaEvent<C> {
  client: C;
  tag?: string;
  encoding?: string;
  customParameters?: Record<string, string>;
  /** Ended only: `duration` in ms of audio played in this stream. */
  mediaInfo?: { duration: number };
}

/** Given to the `onWebSocketClose` parameter once, whoever closed the socket. */
export interface ConnectorCloseEvent<C> {
  client: C;
  code: number;
  reason: string;
  wasClean: boolean;
  /** voxgate: why, when the far end (not `close()`) ended it. */
  error?: VoxgateError;
}

/** Per-connector counters (process-wide audio counters live in graph/stats.ts). */
export interface ConnectorStats {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  /** Characters of text frames sent (bytes, for the ASCII JSON the providers take). */
  bytesOut: number;
  /** Provider messages that could not be parsed or lacked required fields. */
  protocolErrors: number;
  /** Provider `error` events. */
  providerErrors: number;
  /** Frames of caller audio sent to the provider. */
  framesSent: number;
  /** Audio frames dropped by clearMediaBuffer (barge-in). */
  framesCleared: number;
  /** Time from connect() to open, ms; -1 until open. */
  connectMs: number;
}
