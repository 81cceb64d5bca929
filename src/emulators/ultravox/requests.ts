/**
 * Ultravox call creation requests: the documented bodies (`StartCallRequest`, `StartAgentCallRequest`,
 * spec/ultravox.md §2-3) as zod schemas. Unknown fields are accepted and ignored, optional fields may be `null`,
 * wrong types are refused with the service's 400 shape (`{"<field>": ["<message>"]}`).
 */
import { z } from 'zod';
import { isSupportedRate } from '../../media/format.js';

const DURATION = /^-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,9})?s$/;
const duration = z.string().regex(DURATION, 'must be a duration such as "30s" or "0.384s"');
const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

/** `"0.384s"` → 384 (ms). */
export function durationMs(value: string): number {
  return Math.round(Number.parseFloat(value.slice(0, -1)) * 1000);
}

/** A refinement: exactly one of `keys` is set. */
const exactlyOne = (keys: readonly string[], what: string) =>
  [
    (value: Record<string, unknown>) =>
      keys.filter((k) => value[k] !== undefined && value[k] !== null).length === 1,
    { message: `${what}: set exactly one of ${keys.join(', ')}` },
  ] as const;

const MEDIA = ['webRtc', 'twilio', 'serverWebSocket', 'telnyx', 'plivo', 'exotel', 'sip'] as const;
export const DATA_MESSAGES = [
  'pong',
  'state',
  'transcript',
  'clientToolInvocation',
  'dataConnectionToolInvocation',
  'playbackClearBuffer',
  'callStarted',
  'debug',
  'callEvent',
  'toolUsed',
  'userStartedSpeaking',
  'userStoppedSpeaking',
  'invokingTool',
] as const;

const sampleRate = z
  .number()
  .int()
  .refine(isSupportedRate, 'the emulator supports 8000, 11025, 16000, 22050, 24000, 32000, 44100 or 48000');

const serverWebSocketSchema = z.looseObject({
  inputSampleRate: sampleRate,
  outputSampleRate: opt(sampleRate),
  clientBufferSizeMs: opt(z.number().int().min(0)),
  dataMessages: opt(z.looseObject(Object.fromEntries(DATA_MESSAGES.map((k) => [k, opt(z.boolean())])))),
  mediaIdleTimeout: opt(duration),
});

const mediumSchema = z
  .looseObject({
    ...Object.fromEntries(MEDIA.map((k) => [k, opt(z.looseObject({}))])),
    serverWebSocket: opt(serverWebSocketSchema),
  })
  .refine(...exactlyOne(MEDIA, 'medium'));

const firstSpeakerSettingsSchema = z
  .looseObject({
    user: opt(
      z.looseObject({
        fallback: opt(
          z.looseObject({ delay: opt(duration), text: opt(z.string()), prompt: opt(z.string()) }),
        ),
      }),
    ),
    agent: opt(
      z.looseObject({
        uninterruptible: opt(z.boolean()),
        text: opt(z.string()),
        prompt: opt(z.string()),
        delay: opt(duration),
      }),
    ),
  })
  .refine(...exactlyOne(['user', 'agent'], 'firstSpeakerSettings'));

const parameterSchema = z.looseObject({
  name: z.string(),
  location: opt(
    z.enum([
      'PARAMETER_LOCATION_UNSPECIFIED',
      'PARAMETER_LOCATION_QUERY',
      'PARAMETER_LOCATION_PATH',
      'PARAMETER_LOCATION_HEADER',
      'PARAMETER_LOCATION_BODY',
    ]),
  ),
  schema: opt(z.record(z.string(), z.unknown())),
  required: opt(z.boolean()),
});

const REACTIONS = [
  'AGENT_REACTION_UNSPECIFIED',
  'AGENT_REACTION_SPEAKS',
  'AGENT_REACTION_LISTENS',
  'AGENT_REACTION_SPEAKS_ONCE',
] as const;

const temporaryToolSchema = z.looseObject({
  modelToolName: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: opt(z.string()),
  dynamicParameters: opt(z.array(parameterSchema)),
  staticParameters: opt(z.array(z.looseObject({ name: z.string() }))),
  automaticParameters: opt(z.array(z.looseObject({ name: z.string() }))),
  timeout: opt(duration),
  precomputable: opt(z.boolean()),
  defaultReaction: opt(z.enum(REACTIONS)),
  staticResponse: opt(z.looseObject({})),
  http: opt(z.looseObject({})),
  client: opt(z.looseObject({})),
  dataConnection: opt(z.looseObject({})),
});

export const selectedToolSchema = z
  .looseObject({
    toolId: opt(z.string()),
    toolName: opt(z.string()),
    temporaryTool: opt(temporaryToolSchema),
    nameOverride: opt(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must match ^[a-zA-Z0-9_-]{1,64}$')),
    descriptionOverride: opt(z.string()),
  })
  .refine(...exactlyOne(['toolId', 'toolName', 'temporaryTool'], 'selectedTools[]'));

const ROLES = [
  'MESSAGE_ROLE_USER',
  'MESSAGE_ROLE_AGENT',
  'MESSAGE_ROLE_TOOL_CALL',
  'MESSAGE_ROLE_TOOL_RESULT',
] as const;
const MEDIUMS = ['MESSAGE_MEDIUM_UNSPECIFIED', 'MESSAGE_MEDIUM_VOICE', 'MESSAGE_MEDIUM_TEXT'] as const;

const messageSchema = z.looseObject({
  role: z.enum(ROLES),
  text: opt(z.string()),
  invocationId: opt(z.string()),
  toolName: opt(z.string()),
  medium: opt(z.enum(MEDIUMS)),
});

const vadSchema = z.looseObject({
  turnEndpointDelay: opt(duration),
  minimumTurnDuration: opt(duration),
  minimumInterruptionDuration: opt(duration),
  frameActivationThreshold: opt(z.number().min(0.1).max(1)),
});

const metadataSchema = z
  .record(z.string(), z.string())
  .refine(
    (m) => !Object.keys(m).some((k) => k.startsWith('ultravox.')),
    'keys may not start with "ultravox."',
  );

/** Fields both creation bodies share. */
const commonFields = {
  initialMessages: opt(z.array(messageSchema)),
  joinTimeout: opt(duration),
  maxDuration: opt(duration),
  medium: opt(mediumSchema),
  recordingEnabled: opt(z.boolean()),
  firstSpeakerSettings: opt(firstSpeakerSettingsSchema),
  initialOutputMedium: opt(z.enum(MEDIUMS)),
  metadata: opt(metadataSchema),
  voice: opt(z.string()),
  dataConnection: opt(z.looseObject({ websocketUrl: z.string() })),
};

export const startCallSchema = z
  .looseObject({
    ...commonFields,
    systemPrompt: opt(z.string()),
    temperature: opt(z.number().min(0).max(1)),
    model: opt(z.string()),
    externalVoice: opt(z.looseObject({})),
    languageHint: opt(z.string().max(16)),
    timeExceededMessage: opt(z.string()),
    selectedTools: opt(z.array(selectedToolSchema)),
    firstSpeaker: opt(z.enum(['FIRST_SPEAKER_UNSPECIFIED', 'FIRST_SPEAKER_AGENT', 'FIRST_SPEAKER_USER'])),
    vadSettings: opt(vadSchema),
    initialState: opt(z.record(z.string(), z.unknown())),
  })
  .refine((b) => !(b.voice && b.externalVoice), 'set voice or externalVoice, not both');

export const startAgentCallSchema = z.looseObject({
  ...commonFields,
  templateContext: opt(z.record(z.string(), z.unknown())),
});

export type StartCallRequest = z.infer<typeof startCallSchema>;
export type StartAgentCallRequest = z.infer<typeof startAgentCallSchema>;

/** Problems with a body, as `{"<field path>": ["<message>"]}` (the shape of the service's 400 answers). */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length === 0 ? 'non_field_errors' : issue.path.join('.');
    const list = out[key] ?? [];
    list.push(issue.message);
    out[key] = list;
  }
  return out;
}

export type SelectedTool = z.infer<typeof selectedToolSchema>;
