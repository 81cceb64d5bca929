import { z } from 'zod';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { type AudioFormat, audioFormat, isSupportedRate, SAMPLE_RATES } from '../media/format.js';
import type { WireAudioFormat } from './registry.js';

/**
 * `POST /call` bodies, in Vapi's `CreateCallDTO` shape (shared/spec/call-transports.md §1.1). Fields voxgate does
 * not use (`name`, `customer`, `squadId`, ...) are accepted and ignored, so a Vapi client's body works unchanged;
 * phone-based fields are refused, as Vapi refuses them with this transport.
 */

const audioFormatSchema = z
  .object({
    format: z.enum(['pcm_s16le', 'mulaw']).default('pcm_s16le'),
    container: z.literal('raw').default('raw'),
    sampleRate: z
      .number()
      .int()
      .refine(isSupportedRate, { message: `must be one of ${SAMPLE_RATES.join(', ')}` })
      .optional(),
  })
  .default({ format: 'pcm_s16le', container: 'raw' });

const transportSchema = z.object(
  {
    provider: z.literal('vapi.websocket', {
      error: 'must be "vapi.websocket" (the only transport this server offers)',
    }),
    conversationType: z.literal('voice').optional(),
    audioFormat: audioFormatSchema,
  },
  { error: 'required: {"provider": "vapi.websocket", "audioFormat": {...}}' },
);

const PHONE_REFUSED = 'phone-based parameters are not permitted with the vapi.websocket transport';

const createCallSchema = z.object({
  assistantId: z.string().min(1).max(200).optional(),
  assistant: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  phoneNumber: z.never({ error: PHONE_REFUSED }).optional(),
  phoneNumberId: z.never({ error: PHONE_REFUSED }).optional(),
  transport: transportSchema,
});

export interface CreateCallRequest {
  assistantId?: string;
  assistant?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  wireFormat: WireAudioFormat;
  /** The call's audio format on the wire, both directions. */
  format: AudioFormat;
}

/** Validates a create-call body; throws a 400 ProtocolError naming the first bad field. */
export function parseCreateCall(body: unknown): CreateCallRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError(ErrorCodes.BAD_REQUEST, 'the body must be a JSON object');
  }
  const result = createCallSchema.safeParse(body);
  if (!result.success) throw badRequest(result.error.issues);
  const data = result.data;
  const af = data.transport.audioFormat;
  const sampleRate = af.sampleRate ?? (af.format === 'mulaw' ? 8000 : 16000);
  const request: CreateCallRequest = {
    wireFormat: { format: af.format, container: 'raw', sampleRate },
    format: audioFormat(af.format === 'mulaw' ? 'ulaw' : 'pcm16', sampleRate),
  };
  if (data.assistantId !== undefined) request.assistantId = data.assistantId;
  if (data.assistant !== undefined) request.assistant = data.assistant;
  if (data.metadata !== undefined) request.metadata = data.metadata;
  return request;
}

/** A 400 whose message names the first bad field by its full path; `details.issues` lists them all. */
export function badRequest(issues: readonly z.core.$ZodIssue[]): ProtocolError {
  const list = issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  const first = list[0]!;
  return new ProtocolError(ErrorCodes.BAD_REQUEST, `${first.field}: ${first.message}`, {
    details: { issues: list },
  });
}
