/**
 * What the emulator runs an Ultravox call with: a validated creation request with the documented defaults
 * filled in (spec/ultravox.md §2), durations in ms, tools as the brain sees them, and the configuration fields
 * of the `Call` object the REST API answers with.
 */
import {
  DATA_MESSAGES,
  durationMs,
  type SelectedTool,
  type StartAgentCallRequest,
  type StartCallRequest,
} from './requests.js';

export type MessageMedium = 'voice' | 'text';
export type AgentReaction = 'speaks' | 'listens' | 'speaks-once';
export type DataMessageToggles = Record<(typeof DATA_MESSAGES)[number], boolean>;

export interface ToolSpec {
  /** The name the model calls it by (`nameOverride`, else `modelToolName`). */
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the body parameters. */
  readonly parameters: Record<string, unknown>;
  /** Who runs it: the client (`client_tool_invocation`), a data connection, or something the emulator cannot. */
  readonly kind: 'client' | 'dataConnection' | 'other';
  readonly defaultReaction: AgentReaction;
}

export interface SocketMedium {
  readonly inputSampleRate: number;
  readonly outputSampleRate: number;
  readonly clientBufferSizeMs: number;
  readonly messages: DataMessageToggles;
  /** Null: no limit. */
  readonly mediaIdleTimeoutMs: number | null;
}

export type FirstSpeaker =
  | {
      readonly kind: 'agent';
      readonly uninterruptible: boolean;
      readonly text: string | null;
      readonly delayMs: number;
    }
  | {
      readonly kind: 'user';
      readonly fallback: { readonly delayMs: number; readonly text: string | null } | null;
    };

export interface VadConfig {
  readonly turnEndpointDelayMs: number;
  readonly minimumTurnDurationMs: number;
  readonly minimumInterruptionDurationMs: number;
  readonly frameActivationThreshold: number;
}

export type InitialMessage = {
  role: 'user' | 'agent' | 'tool_call' | 'tool_result';
  text: string;
  invocationId?: string;
  toolName?: string;
};

/** What the emulator runs a call with. */
export interface CallConfig {
  readonly systemPrompt: string;
  readonly tools: readonly ToolSpec[];
  /** `medium.serverWebSocket`, or null when the call uses another medium (the emulator cannot join those). */
  readonly socket: SocketMedium | null;
  readonly firstSpeaker: FirstSpeaker;
  readonly initialOutputMedium: MessageMedium;
  readonly vad: VadConfig;
  readonly joinTimeoutMs: number;
  readonly maxDurationMs: number;
  readonly timeExceededMessage: string | null;
  readonly initialMessages: readonly InitialMessage[];
  readonly initialState: Record<string, unknown>;
  /** The `Call` fields that describe the configuration, defaults filled in. */
  readonly view: Record<string, unknown>;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful voice agent running in the voxgate Ultravox emulator.';
export const DEFAULT_MODEL = 'ultravox-v0.7';
const DEFAULT_VAD = {
  turnEndpointDelay: '0.384s',
  minimumTurnDuration: '0s',
  minimumInterruptionDuration: '0.09s',
  frameActivationThreshold: 0.1,
};

function dataMessageToggles(
  given: Record<string, unknown> | null | undefined,
  dataConnection: boolean,
): DataMessageToggles {
  const defaults: DataMessageToggles = {
    pong: true,
    state: true,
    transcript: true,
    clientToolInvocation: true,
    dataConnectionToolInvocation: dataConnection,
    playbackClearBuffer: true,
    callStarted: true,
    debug: false,
    callEvent: false,
    toolUsed: false,
    userStartedSpeaking: false,
    userStoppedSpeaking: false,
    invokingTool: false,
  };
  for (const key of DATA_MESSAGES) {
    const v = given?.[key];
    if (typeof v === 'boolean') defaults[key] = v;
  }
  return defaults;
}

const REACTION: Record<string, AgentReaction> = {
  AGENT_REACTION_LISTENS: 'listens',
  AGENT_REACTION_SPEAKS_ONCE: 'speaks-once',
};

function toolSpec(tool: SelectedTool): ToolSpec | null {
  const t = tool.temporaryTool;
  if (t === undefined || t === null) return null;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of t.dynamicParameters ?? []) {
    if ((p.location ?? 'PARAMETER_LOCATION_BODY') !== 'PARAMETER_LOCATION_BODY') continue;
    properties[p.name] = p.schema ?? {};
    if (p.required) required.push(p.name);
  }
  return {
    name: tool.nameOverride ?? t.modelToolName,
    description: tool.descriptionOverride ?? t.description ?? '',
    parameters: { type: 'object', properties, required },
    kind: t.client ? 'client' : t.dataConnection ? 'dataConnection' : 'other',
    defaultReaction: REACTION[t.defaultReaction ?? ''] ?? 'speaks',
  };
}

const ROLE_OF: Record<string, InitialMessage['role']> = {
  MESSAGE_ROLE_USER: 'user',
  MESSAGE_ROLE_AGENT: 'agent',
  MESSAGE_ROLE_TOOL_CALL: 'tool_call',
  MESSAGE_ROLE_TOOL_RESULT: 'tool_result',
};

/** Defaults applied, durations parsed: what a call runs with. `body` is a validated StartCallRequest. */
export function callConfig(body: StartCallRequest): CallConfig {
  const socket = socketMedium(body);
  const settings =
    body.firstSpeakerSettings ?? (body.firstSpeaker === 'FIRST_SPEAKER_USER' ? { user: {} } : { agent: {} });
  const firstSpeaker = firstSpeakerOf(settings);
  const v = body.vadSettings;
  const vadSettings = {
    turnEndpointDelay: v?.turnEndpointDelay ?? DEFAULT_VAD.turnEndpointDelay,
    minimumTurnDuration: v?.minimumTurnDuration ?? DEFAULT_VAD.minimumTurnDuration,
    minimumInterruptionDuration: v?.minimumInterruptionDuration ?? DEFAULT_VAD.minimumInterruptionDuration,
    frameActivationThreshold: v?.frameActivationThreshold ?? DEFAULT_VAD.frameActivationThreshold,
  };
  const view = {
    systemPrompt: body.systemPrompt ?? DEFAULT_SYSTEM_PROMPT,
    temperature: body.temperature ?? 0,
    model: body.model ?? DEFAULT_MODEL,
    voice: body.voice ?? null,
    externalVoice: body.externalVoice ?? null,
    languageHint: body.languageHint ?? null,
    joinTimeout: body.joinTimeout ?? '30s',
    maxDuration: body.maxDuration ?? '3600s',
    timeExceededMessage: body.timeExceededMessage ?? null,
    inactivityMessages: [],
    medium: mediumView(body, socket),
    recordingEnabled: body.recordingEnabled ?? false,
    firstSpeaker: firstSpeaker.kind === 'user' ? 'FIRST_SPEAKER_USER' : 'FIRST_SPEAKER_AGENT',
    firstSpeakerSettings: settings,
    initialOutputMedium: body.initialOutputMedium ?? 'MESSAGE_MEDIUM_VOICE',
    vadSettings,
    metadata: body.metadata ?? {},
    initialState: body.initialState ?? {},
    dataConnectionConfig: body.dataConnection ?? null,
  };
  return {
    systemPrompt: view.systemPrompt,
    tools: (body.selectedTools ?? []).map(toolSpec).filter((t): t is ToolSpec => t !== null),
    socket,
    firstSpeaker,
    initialOutputMedium: body.initialOutputMedium === 'MESSAGE_MEDIUM_TEXT' ? 'text' : 'voice',
    vad: {
      turnEndpointDelayMs: durationMs(vadSettings.turnEndpointDelay),
      minimumTurnDurationMs: durationMs(vadSettings.minimumTurnDuration),
      minimumInterruptionDurationMs: durationMs(vadSettings.minimumInterruptionDuration),
      frameActivationThreshold: vadSettings.frameActivationThreshold,
    },
    joinTimeoutMs: durationMs(view.joinTimeout),
    maxDurationMs: durationMs(view.maxDuration),
    timeExceededMessage: view.timeExceededMessage,
    initialMessages: (body.initialMessages ?? []).map((m) => ({
      role: ROLE_OF[m.role]!,
      text: m.text ?? '',
      ...(m.invocationId ? { invocationId: m.invocationId } : {}),
      ...(m.toolName ? { toolName: m.toolName } : {}),
    })),
    initialState: view.initialState,
    view,
  };
}

function socketMedium(body: StartCallRequest): SocketMedium | null {
  const ws = body.medium?.serverWebSocket;
  if (ws == null) return null;
  return {
    inputSampleRate: ws.inputSampleRate,
    outputSampleRate: ws.outputSampleRate ?? ws.inputSampleRate,
    clientBufferSizeMs: ws.clientBufferSizeMs ?? 60,
    messages: dataMessageToggles(ws.dataMessages, body.dataConnection != null),
    mediaIdleTimeoutMs: ws.mediaIdleTimeout ? Math.max(10_000, durationMs(ws.mediaIdleTimeout)) : null,
  };
}

/** The `medium` the `Call` shows: as asked, with the serverWebSocket defaults filled in (`webRtc` when absent). */
function mediumView(body: StartCallRequest, socket: SocketMedium | null): Record<string, unknown> {
  if (body.medium == null) return { webRtc: {} };
  if (socket === null) return { ...body.medium };
  const { outputSampleRate, clientBufferSizeMs } = socket;
  return {
    ...body.medium,
    serverWebSocket: { ...body.medium.serverWebSocket, outputSampleRate, clientBufferSizeMs },
  };
}

function firstSpeakerOf(settings: NonNullable<StartCallRequest['firstSpeakerSettings']>): FirstSpeaker {
  const { user, agent } = settings;
  if (user) {
    const fallback = user.fallback;
    return {
      kind: 'user',
      fallback: fallback
        ? { delayMs: durationMs(fallback.delay ?? '0s'), text: fallback.text ?? null }
        : null,
    };
  }
  return {
    kind: 'agent',
    uninterruptible: agent?.uninterruptible ?? false,
    text: agent?.text ?? null,
    delayMs: durationMs(agent?.delay ?? '0s'),
  };
}

/** An agent call's effective body: the agent's template with the request's fields on top. */
export function agentCallBody(template: StartCallRequest, request: StartAgentCallRequest): StartCallRequest {
  const { templateContext: _context, ...fields } = request;
  return { ...template, ...definedOnly(fields) } as StartCallRequest;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
