/**
 * The Ultravox mapping, as pure functions and constants (spec/ultravox.md, spec/voxengine.md §9): the VoxEngine
 * event and endpoint names, the create-call request the connector makes (with `medium.serverWebSocket` forced to
 * the rates it will use), reading the answer, and checking server data messages with direct checks.
 */
import { ErrorCodes, UpstreamError, UsageError } from '../errors.js';
import { isSupportedRate } from '../media/format.js';

/** Ultravox's API, unless `baseUrl` or the `ULTRAVOX_BASE_URL` environment variable says otherwise. */
export const ULTRAVOX_BASE_URL = 'https://api.ultravox.ai';

/** `Ultravox.HTTPEndpoint`: what the connector does before it joins. */
export const HTTPEndpoint = {
  CREATE_CALL: 'CreateCall',
  CREATE_AGENT_CALL: 'CreateAgentCall',
  JOIN_CALL: 'JoinCall',
} as const;
export type HTTPEndpoint = (typeof HTTPEndpoint)[keyof typeof HTTPEndpoint];

/** `Ultravox.WebSocketAPIEvents`. */
export const WebSocketAPIEvents = {
  Unknown: 'Ultravox.WebSocketAPI.Unknown',
  HTTPResponse: 'Ultravox.WebSocketAPI.HTTPResponse',
  State: 'Ultravox.WebSocketAPI.State',
  Transcript: 'Ultravox.WebSocketAPI.Transcript',
  ClientToolInvocation: 'Ultravox.WebSocketAPI.ClientToolInvocation',
  DataConnectionToolInvocation: 'Ultravox.WebSocketAPI.DataConnectionToolInvocation',
  Debug: 'Ultravox.WebSocketAPI.Debug',
  PlaybackClearBuffer: 'Ultravox.WebSocketAPI.PlaybackClearBuffer',
  WebSocketError: 'Ultravox.WebSocketAPI.WebSocketError',
  ConnectorInformation: 'Ultravox.WebSocketAPI.ConnectorInformation',
} as const;
export type WebSocketAPIEventName = (typeof WebSocketAPIEvents)[keyof typeof WebSocketAPIEvents];

/** `Ultravox.Events`: agent audio started / ended playing (ended after 1 s without audio). */
export const Events = {
  WebSocketMediaStarted: 'Ultravox.Events.WebSocketMediaStarted',
  WebSocketMediaEnded: 'Ultravox.Events.WebSocketMediaEnded',
} as const;
export type MediaEventName = (typeof Events)[keyof typeof Events];

const E = WebSocketAPIEvents;

/** Server data message type → event, with the fields each must carry; any other type is `Unknown`. */
const WIRE: Record<string, { event: WebSocketAPIEventName; check: (m: Message) => boolean }> = {
  state: { event: E.State, check: (m) => typeof m.state === 'string' },
  transcript: {
    event: E.Transcript,
    check: (m) =>
      (m.role === 'user' || m.role === 'agent') &&
      typeof m.final === 'boolean' &&
      typeof m.ordinal === 'number' &&
      (typeof m.text === 'string' || typeof m.delta === 'string'),
  },
  client_tool_invocation: { event: E.ClientToolInvocation, check: isInvocation },
  data_connection_tool_invocation: { event: E.DataConnectionToolInvocation, check: isInvocation },
  debug: { event: E.Debug, check: (m) => typeof m.message === 'string' },
  playback_clear_buffer: { event: E.PlaybackClearBuffer, check: () => true },
};

export type Message = { type: string; [key: string]: unknown };

function isInvocation(m: Message): boolean {
  const p = m.parameters;
  return (
    typeof m.toolName === 'string' &&
    typeof m.invocationId === 'string' &&
    typeof p === 'object' &&
    p !== null &&
    !Array.isArray(p)
  );
}

/** VG_ERR_UPSTREAM_PROTOCOL; the message content is never copied into the error. */
export function protocolError(message: string, details: Record<string, unknown> = {}): UpstreamError {
  return new UpstreamError(ErrorCodes.UPSTREAM_PROTOCOL, message, { retryable: false, details });
}

/** A server text frame: its event, or a coded problem (not JSON, no string `type`, a documented field missing). */
export function readServerMessage(
  data: Buffer,
): { ok: true; message: Message; event: WebSocketAPIEventName } | { ok: false; error: UpstreamError } {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return {
      ok: false,
      error: protocolError('Ultravox sent a data message that is not JSON', { bytes: data.length }),
    };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    const error = protocolError('Ultravox sent a data message without a string "type"', {
      bytes: data.length,
    });
    return { ok: false, error };
  }
  const message = value as Message;
  const wire = WIRE[message.type];
  if (wire === undefined) return { ok: true, message, event: E.Unknown };
  if (!wire.check(message)) {
    const error = protocolError(`Ultravox sent a ${message.type} message without its documented fields`, {
      type: message.type,
    });
    return { ok: false, error };
  }
  return { ok: true, message, event: wire.event };
}

// ---------------------------------------------------------------------------------------------------------------

/** The parts of `createWebSocketAPIClient`'s parameters this file reads. */
export interface EndpointParameters {
  endpoint: HTTPEndpoint;
  joinUrl?: string;
  authorizations?: Record<string, unknown>;
  pathParameters?: Record<string, unknown>;
  queryParameters?: Record<string, unknown>;
  body?: Record<string, unknown>;
  baseUrl?: string;
  inputSampleRate?: number;
  outputSampleRate?: number;
}

export interface CallPlan {
  /** The create request, or null for JOIN_CALL. */
  create: { url: string; headers: Record<string, string>; body: Record<string, unknown> } | null;
  /** JOIN_CALL's joinUrl (create endpoints learn theirs from the answer). */
  joinUrl: string | null;
  inputSampleRate: number;
  outputSampleRate: number;
  /** `clientBufferSizeMs` asked for, if any. */
  clientBufferSizeMs: number | null;
}

const ENDPOINTS: readonly string[] = Object.values(HTTPEndpoint);

function bad(message: string): UsageError {
  return new UsageError(ErrorCodes.BAD_ARGUMENT, `Ultravox.createWebSocketAPIClient: ${message}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function rate(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !isSupportedRate(value)) {
    throw bad(
      `${what} must be one of 8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000; got ${String(value)}`,
    );
  }
  return value;
}

/**
 * What the connector will do, from the scenario's parameters; throws VG_ERR_BAD_ARGUMENT. The create body gets
 * `medium: {serverWebSocket: {...its own fields, inputSampleRate, outputSampleRate}}`, the rates being the
 * body's own when it sets them, else the parameters' (16 kHz by default, as VoxEngine requires).
 */
export function planCall(
  p: EndpointParameters,
  env: Record<string, string | undefined> = process.env,
): CallPlan {
  if (!isRecord(p)) throw bad('parameters must be an object');
  if (!ENDPOINTS.includes(p.endpoint)) throw bad(`endpoint must be one of ${ENDPOINTS.join(', ')}`);
  for (const key of ['authorizations', 'pathParameters', 'queryParameters', 'body'] as const) {
    if (p[key] !== undefined && !isRecord(p[key])) throw bad(`${key} must be an object`);
  }
  const socket =
    isRecord(p.body?.medium) && isRecord(p.body.medium.serverWebSocket) ? p.body.medium.serverWebSocket : {};
  const input =
    rate(socket.inputSampleRate, 'body.medium.serverWebSocket.inputSampleRate') ??
    rate(p.inputSampleRate, 'inputSampleRate') ??
    16000;
  const output =
    rate(socket.outputSampleRate, 'body.medium.serverWebSocket.outputSampleRate') ??
    rate(p.outputSampleRate, 'outputSampleRate') ??
    input;
  const bufferMs = typeof socket.clientBufferSizeMs === 'number' ? socket.clientBufferSizeMs : null;
  const rates = { inputSampleRate: input, outputSampleRate: output, clientBufferSizeMs: bufferMs };
  if (p.endpoint === HTTPEndpoint.JOIN_CALL) {
    if (typeof p.joinUrl !== 'string' || !/^wss?:\/\//i.test(p.joinUrl)) {
      throw bad('JOIN_CALL needs joinUrl, a ws:// or wss:// URL');
    }
    return { create: null, joinUrl: p.joinUrl, ...rates };
  }
  let path = '/api/calls';
  if (p.endpoint === HTTPEndpoint.CREATE_AGENT_CALL) {
    const agentId = p.pathParameters?.agent_id ?? p.pathParameters?.agentId;
    if (typeof agentId !== 'string' || agentId === '')
      throw bad('CREATE_AGENT_CALL needs pathParameters.agent_id');
    path = `/api/agents/${encodeURIComponent(agentId)}/calls`;
  }
  const base = (p.baseUrl ?? env.ULTRAVOX_BASE_URL ?? ULTRAVOX_BASE_URL).replace(/\/+$/, '');
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(p.queryParameters ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': 'voxgate/0.1 (Ultravox.WebSocketAPIClient)',
  };
  for (const [k, v] of Object.entries(p.authorizations ?? {})) if (v !== undefined) headers[k] = String(v);
  const body = {
    ...(p.body ?? {}),
    medium: { serverWebSocket: { ...socket, inputSampleRate: input, outputSampleRate: output } },
  };
  return { create: { url: url.href, headers, body }, joinUrl: null, ...rates };
}

/** The create call's answer: the `Call` and its joinUrl, or a coded error with the status and body. */
export function readCreateAnswer(
  endpoint: HTTPEndpoint,
  status: number,
  text: string,
): { ok: true; call: Record<string, unknown>; joinUrl: string } | { ok: false; error: UpstreamError } {
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  }
  if (status < 200 || status > 299) {
    const error = new UpstreamError(
      ErrorCodes.UPSTREAM_HTTP,
      `Ultravox answered ${endpoint} with HTTP ${status}`,
      {
        status,
        details: { endpoint, status, body },
      },
    );
    return { ok: false, error };
  }
  if (!isRecord(body) || typeof body.joinUrl !== 'string' || !/^wss?:\/\//i.test(body.joinUrl)) {
    const error = protocolError(`Ultravox answered ${endpoint} with HTTP ${status} but no joinUrl`, {
      endpoint,
      status,
    });
    return { ok: false, error };
  }
  return { ok: true, call: body, joinUrl: body.joinUrl };
}
