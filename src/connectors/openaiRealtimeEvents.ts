/**
 * Reading OpenAI Realtime server events: parse a message, check the fields we rely on with direct checks (no schema
 * library on the audio path), translate events into the transport events a `RealtimeSession` consumes, and name
 * them as VoxEngine's `OpenAI.RealtimeAPIEvents`. Pure: the connectors perform the side effects.
 */
import { ErrorCodes, UpstreamError } from '../errors.js';
import { pickDefined } from './openaiRealtimeProtocol.js';
import type {
  OpenAIRealtimeEventTypes,
  RealtimeItem,
  RealtimeItemStatus,
  RealtimeServerEvent,
  TransportEvent,
} from './types.js';

export type ParsedMessage = { ok: true; event: TransportEvent } | { ok: false; error: UpstreamError };

/** VG_ERR_UPSTREAM_PROTOCOL; the message content is never copied into the error. */
export function protocolError(message: string, bytes?: number, type?: string): UpstreamError {
  return new UpstreamError(ErrorCodes.UPSTREAM_PROTOCOL, message, {
    retryable: false,
    details: { ...(bytes === undefined ? {} : { bytes }), ...(type === undefined ? {} : { type }) },
  });
}

/** JSON with a string `type`, or a VG_ERR_UPSTREAM_PROTOCOL error. */
export function parseServerMessage(data: Buffer | string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, error: protocolError('the provider sent a message that is not JSON', data.length) };
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    return {
      ok: false,
      error: protocolError('the provider sent a message without a string "type"', data.length),
    };
  }
  return { ok: true, event: value as TransportEvent };
}

const str = (value: unknown): value is string => typeof value === 'string';
const obj = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export interface AudioDelta {
  responseId: string;
  itemId: string;
  contentIndex: number;
  delta: string;
}

/** The fields of `response.output_audio.delta`, or null when one is missing. */
export function readAudioDelta(event: TransportEvent): AudioDelta | null {
  const { response_id, item_id, content_index, delta } = event;
  if (!str(response_id) || !str(item_id) || typeof content_index !== 'number' || !str(delta)) return null;
  return { responseId: response_id, itemId: item_id, contentIndex: content_index, delta };
}

type Part = Record<string, unknown>;

function contentPart(role: string, part: Part): Part | null {
  const type = role === 'assistant' && part.type === 'audio' ? 'output_audio' : part.type;
  if ((type === 'input_text' || type === 'output_text') && str(part.text)) return { type, text: part.text };
  if (type === 'input_audio')
    return { type, audio: part.audio ?? null, transcript: str(part.transcript) ? part.transcript : null };
  if (type === 'output_audio') return pickDefined({ type, audio: part.audio, transcript: part.transcript });
  return null;
}

/**
 * A server conversation item as a transport `RealtimeItem`, or null when it is not a message or function call or
 * lacks what the shape needs. `previousItemId` is kept only when the event carried it (null means "first").
 */
export function toRealtimeItem(
  item: unknown,
  status: RealtimeItemStatus,
  previousItemId?: string | null,
): RealtimeItem | null {
  if (!obj(item) || !str(item.id)) return null;
  const placement = previousItemId === undefined ? {} : { previousItemId };
  const itemStatus = (str(item.status) ? item.status : status) as RealtimeItemStatus;
  if (item.type === 'function_call') {
    const args = str(item.arguments) ? item.arguments : '';
    const name = str(item.name) ? item.name : '';
    return {
      itemId: item.id,
      ...placement,
      type: 'function_call',
      status: itemStatus,
      arguments: args,
      name,
      output: null,
    };
  }
  const role = item.role;
  if (
    item.type !== 'message' ||
    (role !== 'user' && role !== 'assistant' && role !== 'system') ||
    !Array.isArray(item.content)
  ) {
    return null;
  }
  const content: Part[] = [];
  for (const part of item.content as unknown[]) {
    const mapped = obj(part) ? contentPart(role, part) : null;
    if (mapped !== null) content.push(mapped);
  }
  const base = { itemId: item.id, ...placement, type: 'message', role, content };
  return (role === 'system' ? base : { ...base, status: itemStatus }) as RealtimeItem;
}

type Derived =
  | 'item_update'
  | 'item_deleted'
  | 'function_call'
  | 'turn_started'
  | 'turn_done'
  | 'usage_update'
  | 'audio_transcript_delta'
  | 'output_text_delta'
  | 'audio_done';

/** One transport event to emit: its name and arguments. */
export type Emission = { [K in Derived]: [K, ...OpenAIRealtimeEventTypes[K]] }[Derived];

/** What to emit for `event` beyond `'*'` and its own name, or a problem when a field we need is missing. */
export type Translation = { emit: Emission[] } | { problem: string };

const NOTHING: Translation = { emit: [] };

function itemEvent(event: TransportEvent): Translation {
  if (!obj(event.item)) return { problem: 'no item' };
  if (event.item.type !== 'message') return NOTHING;
  const added = event.type === 'conversation.item.added';
  const placement =
    event.type === 'conversation.item.retrieved'
      ? undefined
      : (event.previous_item_id as string | null | undefined);
  const item = toRealtimeItem(event.item, added ? 'in_progress' : 'completed', placement);
  return item === null ? { problem: 'a malformed message item' } : { emit: [['item_update', item]] };
}

function outputItemEvent(event: TransportEvent): Translation {
  const item = event.item;
  if (!obj(item) || !str(event.response_id)) return { problem: 'no item or response_id' };
  const done = event.type === 'response.output_item.done';
  if (item.type === 'function_call' && item.status === 'completed') {
    // In progress for the history until its output is sent.
    const call = toRealtimeItem({ ...item, status: 'in_progress' }, 'in_progress');
    if (call === null || call.type !== 'function_call') return { problem: 'a function call without an id' };
    const callId = str(item.call_id) ? item.call_id : '';
    const fn = {
      id: call.itemId,
      type: 'function_call' as const,
      callId,
      arguments: call.arguments,
      name: call.name,
      responseId: event.response_id,
    };
    return {
      emit: [
        ['item_update', call],
        ['function_call', fn],
      ],
    };
  }
  if (item.type !== 'message') return NOTHING;
  const message = toRealtimeItem(item, done ? 'completed' : 'in_progress');
  return message === null ? { problem: 'a malformed message item' } : { emit: [['item_update', message]] };
}

function responseDone(event: TransportEvent): Translation {
  const response = event.response;
  if (!obj(response)) return { problem: 'no response' };
  const usage = obj(response.usage) ? response.usage : {};
  const inputTokens = typeof usage.input_tokens === 'number' ? usage.input_tokens : 0;
  const outputTokens = typeof usage.output_tokens === 'number' ? usage.output_tokens : 0;
  const inputTokensDetails = (obj(usage.input_token_details) ? usage.input_token_details : {}) as Record<
    string,
    number
  >;
  const outputTokensDetails = (obj(usage.output_token_details) ? usage.output_token_details : {}) as Record<
    string,
    number
  >;
  const totalTokens = inputTokens + outputTokens;
  const id = str(response.id) ? response.id : '';
  const output = Array.isArray(response.output) ? response.output : [];
  return {
    emit: [
      [
        'usage_update',
        {
          requests: 1,
          inputTokens,
          outputTokens,
          totalTokens,
          inputTokensDetails: [inputTokensDetails],
          outputTokensDetails: [outputTokensDetails],
        },
      ],
      [
        'turn_done',
        {
          type: 'response_done',
          response: {
            id,
            output,
            usage: { inputTokens, outputTokens, totalTokens, inputTokensDetails, outputTokensDetails },
          },
        },
      ],
    ],
  };
}

function textDelta(event: TransportEvent): Translation {
  const { delta, item_id, response_id } = event;
  if (!str(delta) || !str(item_id) || !str(response_id))
    return { problem: 'no delta, item_id or response_id' };
  const audio = event.type === 'response.output_audio_transcript.delta';
  return {
    emit: [
      audio
        ? [
            'audio_transcript_delta',
            { type: 'transcript_delta', delta, itemId: item_id, responseId: response_id },
          ]
        : [
            'output_text_delta',
            { type: 'output_text_delta', delta, itemId: item_id, responseId: response_id },
          ],
    ],
  };
}

/** The transport events derived from a server event (`error` and audio deltas are the transport's own). */
export function translate(event: TransportEvent): Translation {
  switch (event.type) {
    case 'conversation.item.added':
    case 'conversation.item.done':
    case 'conversation.item.retrieved':
      return itemEvent(event);
    case 'response.output_item.added':
    case 'response.output_item.done':
      return outputItemEvent(event);
    case 'conversation.item.deleted':
      return str(event.item_id)
        ? { emit: [['item_deleted', { itemId: event.item_id }]] }
        : { problem: 'no item_id' };
    case 'response.output_audio_transcript.delta':
    case 'response.output_text.delta':
      return textDelta(event);
    case 'response.created':
      return obj(event.response)
        ? { emit: [['turn_started', { type: 'response_started', providerData: { ...event } }]] }
        : { problem: 'no response' };
    case 'response.done':
      return responseDone(event);
    case 'response.output_audio.done':
      return { emit: [['audio_done']] };
    default:
      return NOTHING;
  }
}

/**
 * Every `OpenAI.RealtimeAPIEvents` name with the GA server event it maps to one-to-one (null: the connector's
 * own). The wire types are checked against the `openai` package's server event union.
 */
const EVENT_TABLE = [
  ['Unknown', null],
  ['HTTPResponse', null],
  ['Error', 'error'],
  ['SessionCreated', 'session.created'],
  ['SessionUpdated', 'session.updated'],
  ['ConversationItemAdded', 'conversation.item.added'],
  ['ConversationItemDone', 'conversation.item.done'],
  ['ConversationItemRetrieved', 'conversation.item.retrieved'],
  [
    'ConversationItemInputAudioTranscriptionCompleted',
    'conversation.item.input_audio_transcription.completed',
  ],
  ['ConversationItemInputAudioTranscriptionDelta', 'conversation.item.input_audio_transcription.delta'],
  ['ConversationItemInputAudioTranscriptionSegment', 'conversation.item.input_audio_transcription.segment'],
  ['ConversationItemInputAudioTranscriptionFailed', 'conversation.item.input_audio_transcription.failed'],
  ['ConversationItemTruncated', 'conversation.item.truncated'],
  ['ConversationItemDeleted', 'conversation.item.deleted'],
  ['InputAudioBufferCommitted', 'input_audio_buffer.committed'],
  ['InputAudioBufferCleared', 'input_audio_buffer.cleared'],
  ['InputAudioBufferSpeechStarted', 'input_audio_buffer.speech_started'],
  ['InputAudioBufferSpeechStopped', 'input_audio_buffer.speech_stopped'],
  ['InputAudioBufferTimeoutTriggered', 'input_audio_buffer.timeout_triggered'],
  ['ResponseCreated', 'response.created'],
  ['ResponseDone', 'response.done'],
  ['ResponseOutputItemAdded', 'response.output_item.added'],
  ['ResponseOutputItemDone', 'response.output_item.done'],
  ['ResponseContentPartAdded', 'response.content_part.added'],
  ['ResponseContentPartDone', 'response.content_part.done'],
  ['ResponseOutputTextDelta', 'response.output_text.delta'],
  ['ResponseOutputTextDone', 'response.output_text.done'],
  ['ResponseOutputAudioTranscriptDelta', 'response.output_audio_transcript.delta'],
  ['ResponseOutputAudioTranscriptDone', 'response.output_audio_transcript.done'],
  ['ResponseOutputAudioDone', 'response.output_audio.done'],
  ['ResponseFunctionCallArgumentsDelta', 'response.function_call_arguments.delta'],
  ['ResponseFunctionCallArgumentsDone', 'response.function_call_arguments.done'],
  ['ResponseMCPCallArgumentsDelta', 'response.mcp_call_arguments.delta'],
  ['ResponseMCPCallArgumentsDone', 'response.mcp_call_arguments.done'],
  ['ResponseMCPCallInProgress', 'response.mcp_call.in_progress'],
  ['ResponseMCPCallCompleted', 'response.mcp_call.completed'],
  ['ResponseMCPCallFailed', 'response.mcp_call.failed'],
  ['MCPListToolsInProgress', 'mcp_list_tools.in_progress'],
  ['MCPListToolsCompleted', 'mcp_list_tools.completed'],
  ['MCPListToolsFailed', 'mcp_list_tools.failed'],
  ['RateLimitsUpdated', 'rate_limits.updated'],
  ['WebSocketError', null],
  ['ConnectorInformation', null],
] as const satisfies readonly (readonly [string, RealtimeServerEvent['type'] | null])[];

type EventName = (typeof EVENT_TABLE)[number][0];

/** `OpenAI.RealtimeAPIEvents`: `'OpenAI.RealtimeAPI.<Name>'` for each of the 43 names. */
export const RealtimeAPIEvents = Object.freeze(
  Object.fromEntries(EVENT_TABLE.map(([name]) => [name, `OpenAI.RealtimeAPI.${name}`])),
) as { readonly [N in EventName]: `OpenAI.RealtimeAPI.${N}` };

export type RealtimeAPIEventName = (typeof RealtimeAPIEvents)[EventName];

/** Wire type → scenario event name. */
export const wireEvents: ReadonlyMap<string, RealtimeAPIEventName> = new Map(
  EVENT_TABLE.flatMap(([name, wire]) => (wire === null ? [] : [[wire, RealtimeAPIEvents[name]] as const])),
);
