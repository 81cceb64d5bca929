/**
 * Validation of client events (control messages, so a schema: DESIGN.md "Hot path"), with the service's error
 * vocabulary: a bad field becomes `missing_required_parameter`, `invalid_type`, `invalid_value` or
 * `unknown_parameter` with `param` set to its dotted path (`session.audio.output.speed`, `item.content[0].type`).
 *
 * `input_audio_buffer.append` is the one media-carrying event; it is checked by hand in `parseClientEvent`.
 */
import { type ZodType, z } from 'zod';
import { CLIENT_EVENT_TYPES, ClientEventError, type ClientEventType, OpenAIErrorCodes } from './protocol.js';

const eventId = z.string().optional();

const format = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('audio/pcm'), rate: z.literal(24000).optional() }),
  z.strictObject({ type: z.literal('audio/pcmu') }),
  z.strictObject({ type: z.literal('audio/pcma') }),
]);

const turnDetection = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('server_vad'),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.number().int().min(0).optional(),
    silence_duration_ms: z.number().int().min(0).optional(),
    idle_timeout_ms: z.number().int().min(0).nullable().optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('semantic_vad'),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
  }),
]);

const functionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.unknown().optional(),
});
/** MCP tools are accepted and echoed, never called (the emulator has no MCP client). */
const mcpTool = z.looseObject({ type: z.literal('mcp'), server_label: z.string() });

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.strictObject({ type: z.literal('function'), name: z.string() }),
  z.looseObject({ type: z.literal('mcp'), server_label: z.string() }),
]);

const voice = z.union([z.string(), z.strictObject({ id: z.string() })]);

export const sessionPatchSchema = z.strictObject({
  type: z.literal('realtime'),
  model: z.string().optional(),
  instructions: z.string().optional(),
  output_modalities: z
    .array(z.enum(['audio', 'text']))
    .min(1)
    .max(1)
    .optional(),
  max_output_tokens: z.union([z.number().int().min(1).max(4096), z.literal('inf')]).optional(),
  tools: z.array(z.discriminatedUnion('type', [functionTool, mcpTool])).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  reasoning: z.looseObject({}).optional(),
  tracing: z
    .union([
      z.literal('auto'),
      z.strictObject({
        workflow_name: z.string().optional(),
        group_id: z.string().optional(),
        metadata: z.unknown(),
      }),
    ])
    .nullable()
    .optional(),
  truncation: z
    .union([
      z.enum(['auto', 'disabled']),
      z.strictObject({
        type: z.literal('retention_ratio'),
        retention_ratio: z.number().min(0).max(1),
        token_limits: z.strictObject({ post_instructions: z.number().int().min(0).optional() }).optional(),
      }),
    ])
    .optional(),
  prompt: z.looseObject({ id: z.string() }).nullable().optional(),
  include: z.array(z.literal('item.input_audio_transcription.logprobs')).nullable().optional(),
  audio: z
    .strictObject({
      input: z
        .strictObject({
          format: format.optional(),
          transcription: z
            .strictObject({
              model: z.string().optional(),
              language: z.string().optional(),
              prompt: z.string().optional(),
            })
            .nullable()
            .optional(),
          noise_reduction: z
            .strictObject({ type: z.enum(['near_field', 'far_field']).optional() })
            .nullable()
            .optional(),
          turn_detection: turnDetection.nullable().optional(),
        })
        .optional(),
      output: z
        .strictObject({
          format: format.optional(),
          voice: voice.optional(),
          speed: z.number().min(0.25).max(1.5).optional(),
        })
        .optional(),
    })
    .optional(),
});
export type SessionPatch = z.infer<typeof sessionPatchSchema>;
export type FormatPatch = z.infer<typeof format>;
export type TurnDetectionPatch = z.infer<typeof turnDetection>;
export type ToolPatch = NonNullable<SessionPatch['tools']>[number];
export type ToolChoicePatch = z.infer<typeof toolChoice>;
export type VoicePatch = z.infer<typeof voice>;

const status = z.enum(['completed', 'incomplete', 'in_progress']).optional();
const itemBase = {
  id: z.string().min(1).max(64).optional(),
  object: z.literal('realtime.item').optional(),
  status,
};
const contentPart = z.strictObject({
  type: z.enum(['input_text', 'input_audio', 'input_image', 'output_text', 'output_audio']),
  text: z.string().optional(),
  audio: z.string().nullable().optional(),
  transcript: z.string().nullable().optional(),
  image_url: z.string().optional(),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
const itemSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...itemBase,
    type: z.literal('message'),
    role: z.enum(['user', 'assistant', 'system']),
    content: z.array(contentPart),
  }),
  z.strictObject({
    ...itemBase,
    type: z.literal('function_call'),
    name: z.string(),
    arguments: z.string(),
    call_id: z.string().optional(),
  }),
  z.strictObject({
    ...itemBase,
    type: z.literal('function_call_output'),
    call_id: z.string(),
    output: z.string(),
  }),
]);
export type ItemInput = z.infer<typeof itemSchema>;
export type ContentPartInput = z.infer<typeof contentPart>;

export const responseParamsSchema = z.strictObject({
  conversation: z.enum(['auto', 'none']).optional(),
  output_modalities: z
    .array(z.enum(['audio', 'text']))
    .min(1)
    .max(1)
    .optional(),
  instructions: z.string().optional(),
  tools: z.array(z.discriminatedUnion('type', [functionTool, mcpTool])).optional(),
  tool_choice: toolChoice.optional(),
  max_output_tokens: z.union([z.number().int().min(1).max(4096), z.literal('inf')]).optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  audio: z
    .strictObject({
      output: z.strictObject({ format: format.optional(), voice: voice.optional() }).optional(),
    })
    .optional(),
  input: z
    .array(z.union([itemSchema, z.strictObject({ type: z.literal('item_reference'), id: z.string() })]))
    .optional(),
  prompt: z.looseObject({ id: z.string() }).nullable().optional(),
  reasoning: z.looseObject({}).optional(),
  parallel_tool_calls: z.boolean().optional(),
});
export type ResponseParams = z.infer<typeof responseParamsSchema>;

const schemas = {
  'session.update': z.strictObject({
    type: z.literal('session.update'),
    event_id: eventId,
    session: sessionPatchSchema,
  }),
  'input_audio_buffer.commit': z.strictObject({
    type: z.literal('input_audio_buffer.commit'),
    event_id: eventId,
  }),
  'input_audio_buffer.clear': z.strictObject({
    type: z.literal('input_audio_buffer.clear'),
    event_id: eventId,
  }),
  'output_audio_buffer.clear': z.strictObject({
    type: z.literal('output_audio_buffer.clear'),
    event_id: eventId,
  }),
  'conversation.item.create': z.strictObject({
    type: z.literal('conversation.item.create'),
    event_id: eventId,
    previous_item_id: z.string().nullable().optional(),
    item: itemSchema,
  }),
  'conversation.item.retrieve': z.strictObject({
    type: z.literal('conversation.item.retrieve'),
    event_id: eventId,
    item_id: z.string(),
  }),
  'conversation.item.truncate': z.strictObject({
    type: z.literal('conversation.item.truncate'),
    event_id: eventId,
    item_id: z.string(),
    content_index: z.number().int().min(0),
    audio_end_ms: z.number().int().min(0),
  }),
  'conversation.item.delete': z.strictObject({
    type: z.literal('conversation.item.delete'),
    event_id: eventId,
    item_id: z.string(),
  }),
  'response.create': z.strictObject({
    type: z.literal('response.create'),
    event_id: eventId,
    response: responseParamsSchema.optional(),
  }),
  'response.cancel': z.strictObject({
    type: z.literal('response.cancel'),
    event_id: eventId,
    response_id: z.string().optional(),
  }),
} satisfies Partial<Record<ClientEventType, ZodType>>;

type Schemas = typeof schemas;
export type ParsedClientEvent =
  | { [K in keyof Schemas]: z.infer<Schemas[K]> }[keyof Schemas]
  | { type: 'input_audio_buffer.append'; event_id?: string; audio: string };

/** The client's `event_id`, when the raw message has a string one (echoed in errors even for invalid events). */
export function clientEventId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const id = (raw as { event_id?: unknown }).event_id;
  return typeof id === 'string' ? id : null;
}

/** Validates one decoded JSON message; throws a {@link ClientEventError} that names the offending field. */
export function parseClientEvent(raw: unknown): ParsedClientEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ClientEventError(OpenAIErrorCodes.invalidEvent, 'Expected the event to be a JSON object.');
  }
  const type = (raw as { type?: unknown }).type;
  if (type === undefined) throw missing('type');
  if (typeof type !== 'string') throw wrongType('type', 'a string', type);
  if (type === 'input_audio_buffer.append') return parseAppend(raw as Record<string, unknown>);
  const schema = (schemas as Record<string, ZodType | undefined>)[type];
  if (schema === undefined) {
    const supported = CLIENT_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
    throw new ClientEventError(
      OpenAIErrorCodes.unknownEventType,
      `Invalid value: '${type.slice(0, 64)}'. Supported values are: ${supported}.`,
      'type',
    );
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw toClientError(result.error.issues[0], raw);
  return result.data as ParsedClientEvent;
}

function parseAppend(raw: Record<string, unknown>): ParsedClientEvent {
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && key !== 'event_id' && key !== 'audio') throw unknown(key);
  }
  if (raw.event_id !== undefined && typeof raw.event_id !== 'string')
    throw wrongType('event_id', 'a string', raw.event_id);
  if (raw.audio === undefined) throw missing('audio');
  if (typeof raw.audio !== 'string') throw wrongType('audio', 'a string', raw.audio);
  return { type: 'input_audio_buffer.append', event_id: raw.event_id, audio: raw.audio };
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  values?: unknown[];
  options?: unknown[];
  expected?: string;
  maximum?: unknown;
  minimum?: unknown;
}

function toClientError(issue: Issue | undefined, raw: unknown): ClientEventError {
  if (issue === undefined) return new ClientEventError(OpenAIErrorCodes.invalidEvent, 'Invalid event.');
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') return unknown(paramOf([...path, issue.keys?.[0] ?? '']));
  const param = paramOf(path);
  const value = valueAt(raw, path);
  if (value === undefined) return missing(param);
  switch (issue.code) {
    case 'invalid_value':
      return new ClientEventError(
        OpenAIErrorCodes.invalidValue,
        `Invalid value: ${show(value)}. Supported values are: ${(issue.values ?? []).map(show).join(', ')}.`,
        param,
      );
    case 'invalid_union':
      if (issue.options !== undefined) {
        return new ClientEventError(
          OpenAIErrorCodes.invalidValue,
          `Invalid value: ${show(value)}. Supported values are: ${issue.options.map(show).join(', ')}.`,
          param,
        );
      }
      return wrongType(param, 'one of the documented shapes', value);
    case 'invalid_type':
      return wrongType(param, issue.expected === undefined ? 'another type' : `a ${issue.expected}`, value);
    case 'too_big':
      return new ClientEventError(
        OpenAIErrorCodes.invalidValue,
        `Invalid '${param}': expected a value <= ${String(issue.maximum)}, but got ${show(value)} instead.`,
        param,
      );
    case 'too_small':
      return new ClientEventError(
        OpenAIErrorCodes.invalidValue,
        `Invalid '${param}': expected a value >= ${String(issue.minimum)}, but got ${show(value)} instead.`,
        param,
      );
    default:
      return new ClientEventError(
        OpenAIErrorCodes.invalidValue,
        `Invalid '${param}': ${issue.message}.`,
        param,
      );
  }
}

function missing(param: string): ClientEventError {
  return new ClientEventError(
    OpenAIErrorCodes.missingParameter,
    `Missing required parameter: '${param}'.`,
    param,
  );
}

function unknown(param: string): ClientEventError {
  return new ClientEventError(OpenAIErrorCodes.unknownParameter, `Unknown parameter: '${param}'.`, param);
}

function wrongType(param: string, expected: string, value: unknown): ClientEventError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return new ClientEventError(
    OpenAIErrorCodes.invalidType,
    `Invalid type for '${param}': expected ${expected}, but got ${got} instead.`,
    param,
  );
}

function paramOf(path: readonly (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function show(value: unknown): string {
  const s = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return s === undefined ? 'undefined' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
