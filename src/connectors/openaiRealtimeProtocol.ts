/**
 * OpenAI Realtime (GA) wire facts shared by the transport (`OpenAIRealtimeWebSocket`) and the media-unit client
 * (`RealtimeAPIClient`): URLs, audio formats, base64 audio, fatal error codes, the session payload, history
 * diffs. Pure functions; no sockets here. Server events are read in openaiRealtimeEvents.ts.
 */
import { ConfigError } from '../errors.js';
import type { AudioFormat } from '../media/format.js';
import { ALAW_8K, audioFormat, isSupportedRate, PCM16_24K, ULAW_8K } from '../media/format.js';
import type {
  RealtimeAudioFormat,
  RealtimeAudioFormatDefinition,
  RealtimeItem,
  RealtimeSessionConfig,
  RealtimeTurnDetectionConfig,
} from './types.js';

/** The reference client's default model (agents-realtime 0.20). */
export const DEFAULT_OPENAI_REALTIME_MODEL = 'gpt-realtime-2.1';
export const OPENAI_BASE_URL = 'https://api.openai.com/';

/** `https://host/prefix/` → `wss://host/prefix/v1/realtime?<query>`; `http:` maps to `ws:`. */
export function realtimeUrl(baseUrl: string, query: Record<string, string>): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError(`baseUrl must be an absolute URL such as ${OPENAI_BASE_URL}`, {
      details: { field: 'baseUrl' },
    });
  }
  const scheme = { 'https:': 'wss:', 'http:': 'ws:', 'wss:': 'wss:', 'ws:': 'ws:' }[url.protocol];
  if (scheme === undefined) {
    throw new ConfigError('baseUrl must use https, http, wss or ws', { details: { field: 'baseUrl' } });
  }
  url.protocol = scheme;
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}v1/realtime`;
  url.search = new URLSearchParams(query).toString();
  return url.toString();
}

/** The transport's URL: `connect({url})`, else a SIP/WebRTC `callId`, else the constructor's, else the model's. */
export function transportUrl(
  options: { url?: string; callId?: string },
  defaultUrl: string | undefined,
  model: string,
): string {
  if (options.url) return options.url;
  if (options.callId) return `wss://api.openai.com/v1/realtime?call_id=${encodeURIComponent(options.callId)}`;
  return defaultUrl ?? `wss://api.openai.com/v1/realtime?model=${encodeURIComponent(model)}`;
}

/** The three GA session audio formats. */
export type SessionAudio = 'pcm' | 'pcmu' | 'pcma';

export function wireFormat(kind: SessionAudio): RealtimeAudioFormatDefinition {
  if (kind === 'pcmu') return { type: 'audio/pcmu' };
  if (kind === 'pcma') return { type: 'audio/pcma' };
  return { type: 'audio/pcm', rate: 24000 };
}

/** Our interned format for a GA format object or a legacy name; null when it is neither. */
export function formatFromWire(wire: unknown): AudioFormat | null {
  const type = typeof wire === 'string' ? wire : (wire as { type?: unknown } | null)?.type;
  if (type === 'audio/pcmu' || type === 'g711_ulaw') return ULAW_8K;
  if (type === 'audio/pcma' || type === 'g711_alaw') return ALAW_8K;
  if (type === 'pcm16') return PCM16_24K;
  if (type !== 'audio/pcm') return null;
  const rate = (wire as { rate?: unknown }).rate ?? 24000;
  return typeof rate === 'number' && isSupportedRate(rate) ? audioFormat('pcm16', rate) : null;
}

export function sessionAudioOf(format: AudioFormat): SessionAudio {
  if (format === ULAW_8K) return 'pcmu';
  if (format === ALAW_8K) return 'pcma';
  return 'pcm';
}

/** Legacy names become GA objects; a non-finite pcm rate becomes 24000. */
export function normalizeAudioFormat(
  format: RealtimeAudioFormat | undefined,
): RealtimeAudioFormatDefinition | undefined {
  if (format === undefined) return undefined;
  if (typeof format === 'object') {
    return format.type === 'audio/pcm' && !Number.isFinite(format.rate) ? wireFormat('pcm') : format;
  }
  if (format === 'g711_ulaw') return wireFormat('pcmu');
  if (format === 'g711_alaw') return wireFormat('pcma');
  return wireFormat('pcm');
}

/** Milliseconds of `bytes` of output audio in a GA format (the reference client's arithmetic). */
export function audioDurationMs(bytes: number, format: unknown): number {
  const f = formatFromWire(format);
  if (f === null || f.encoding === 'opus') return bytes / 48;
  return f.encoding === 'pcm16' ? (bytes / 2 / f.sampleRate) * 1000 : bytes / 8;
}

/** Base64 of a view, without copying the bytes first. */
export function encodeAudio(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

const APPEND_HEAD = Buffer.from('{"type":"input_audio_buffer.append","audio":"', 'latin1');
const APPEND_TAIL_LENGTH = 2; // `"}`

/**
 * `input_audio_buffer.append` of `audio` as the bytes of its JSON text, built in one buffer. Base64 and the
 * JSON around it are ASCII, so these bytes are the UTF-8 text; a buffer (unlike a string) lets ws mask and frame
 * the message into a single write, with no UTF-8 encoding pass.
 */
export function appendMessage(audio: Uint8Array): Buffer {
  const base64 = encodeAudio(audio);
  const out = Buffer.allocUnsafe(APPEND_HEAD.length + base64.length + APPEND_TAIL_LENGTH);
  APPEND_HEAD.copy(out, 0);
  const end = APPEND_HEAD.length + out.write(base64, APPEND_HEAD.length, 'latin1');
  out[end] = 0x22; // "
  out[end + 1] = 0x7d; // }
  return out;
}

export function decodeAudio(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

/** Errors after which the session is useless (inferred from the live service; see spec openai-realtime §4). */
const FATAL_CODES = new Set([
  'invalid_api_key',
  'model_not_found',
  'insufficient_quota',
  'rate_limit_exceeded',
  'beta_api_shape_disabled',
  'session_expired',
]);

export function isFatalProviderError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FATAL_CODES.has(code);
}

// ---------------------------------------------------------------------------------------------------------------
// The session payload (agents-realtime's `updateSessionConfig` rules, written for voxgate).

const DEPRECATED_KEYS = [
  'modalities',
  'inputAudioFormat',
  'outputAudioFormat',
  'inputAudioTranscription',
  'turnDetection',
  'inputAudioNoiseReduction',
  'speed',
] as const;

/** Flat pre-GA keys folded into the GA `audio` shape (GA keys win). */
function toGAConfig(config: Partial<RealtimeSessionConfig>): Partial<RealtimeSessionConfig> {
  if (!DEPRECATED_KEYS.some((key) => config[key] !== undefined)) return config;
  return {
    ...config,
    outputModalities: config.outputModalities ?? config.modalities,
    audio: {
      input: {
        format: config.inputAudioFormat,
        noiseReduction: config.inputAudioNoiseReduction ?? null,
        transcription: config.inputAudioTranscription,
        turnDetection: config.turnDetection,
        ...config.audio?.input,
      },
      output: {
        format: config.outputAudioFormat,
        voice: config.voice,
        speed: config.speed,
        ...config.audio?.output,
      },
    },
  };
}

const TURN_KEYS: [camel: string, snake: string][] = [
  ['createResponse', 'create_response'],
  ['interruptResponse', 'interrupt_response'],
  ['prefixPaddingMs', 'prefix_padding_ms'],
  ['silenceDurationMs', 'silence_duration_ms'],
  ['idleTimeoutMs', 'idle_timeout_ms'],
  ['modelVersion', 'model_version'],
];

/** camelCase → snake_case; undefined values dropped; an empty result is undefined (use the default). */
function turnDetectionPayload(
  c: RealtimeTurnDetectionConfig | null | undefined,
): Record<string, unknown> | null | undefined {
  if (c === undefined || c === null) return c;
  const out: Record<string, unknown> = {};
  const rest: Record<string, unknown> = { ...c };
  out.type = rest.type;
  delete rest.type;
  for (const [camel, snake] of TURN_KEYS) {
    out[snake] = rest[camel] ?? rest[snake];
    delete rest[camel];
    delete rest[snake];
  }
  Object.assign(out, rest);
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return Object.keys(out).length > 0 ? out : undefined;
}

export function pickDefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

/**
 * The `session` of a `session.update`: the config merged over the reference defaults (audio/pcm 24 kHz both
 * ways, semantic VAD, gpt-4o-mini-transcribe, no noise reduction, speed 1). Undefined keys vanish in JSON.
 */
export function buildSessionPayload(
  config: Partial<RealtimeSessionConfig>,
  model: string,
): Record<string, unknown> {
  const c = toGAConfig(config);
  const input = c.audio?.input ?? undefined;
  const output = c.audio?.output ?? undefined;
  const turnDetection = turnDetectionPayload(input?.turnDetection);
  const session: Record<string, unknown> = {
    type: 'realtime',
    instructions: c.instructions,
    model: c.model ?? model,
    output_modalities: c.outputModalities ?? ['audio'],
    audio: {
      input: {
        format: normalizeAudioFormat(input?.format) ?? wireFormat('pcm'),
        noise_reduction: input?.noiseReduction ?? null,
        transcription:
          input?.transcription === undefined ? { model: 'gpt-4o-mini-transcribe' } : input.transcription,
        turn_detection: turnDetection === undefined ? { type: 'semantic_vad' } : turnDetection,
      },
      output: {
        format: normalizeAudioFormat(output?.format) ?? wireFormat('pcm'),
        voice: output?.voice ?? c.voice,
        speed: output?.speed ?? 1,
      },
    },
    tool_choice: c.toolChoice,
    ...(c.parallelToolCalls === undefined ? {} : { parallel_tool_calls: c.parallelToolCalls }),
    ...(c.reasoning ? { reasoning: c.reasoning } : {}),
    ...c.providerData,
  };
  if (c.prompt)
    session.prompt = { id: c.prompt.promptId, version: c.prompt.version, variables: c.prompt.variables };
  if (c.tools && c.tools.length > 0) {
    session.tools = c.tools.map((tool) => {
      if (tool.type !== 'mcp')
        return pickDefined({
          type: tool.type,
          name: tool.name,
          description: tool.description,
          parameters: tool.parameters,
        });
      const {
        type,
        server_label,
        server_url,
        server_description,
        connector_id,
        authorization,
        headers,
        allowed_tools,
        require_approval,
      } = tool;
      return pickDefined({
        type,
        server_label,
        server_url,
        server_description,
        connector_id,
        authorization,
        headers,
        allowed_tools,
        require_approval,
      });
    });
  }
  return session;
}

/** Items removed, added, and changed (same id, different content) between two histories. */
export function diffHistory(
  oldHistory: readonly RealtimeItem[],
  newHistory: readonly RealtimeItem[],
): { removals: RealtimeItem[]; additions: RealtimeItem[]; updates: RealtimeItem[] } {
  const oldById = new Map(oldHistory.map((item) => [item.itemId, item]));
  const newIds = new Set(newHistory.map((item) => item.itemId));
  return {
    removals: oldHistory.filter((item) => !newIds.has(item.itemId)),
    additions: newHistory.filter((item) => !oldById.has(item.itemId)),
    updates: newHistory.filter((item) => {
      const old = oldById.get(item.itemId);
      return old !== undefined && JSON.stringify(old) !== JSON.stringify(item);
    }),
  };
}

/**
 * The client events that turn `oldHistory` into `newHistory`: a delete per removed or changed item, then a create
 * per added or changed message, in order. A create names the item it follows only when something the server keeps
 * comes after it; else it appends. Function calls cannot be recreated and are skipped.
 */
export function historyResetEvents(
  oldHistory: readonly RealtimeItem[],
  newHistory: readonly RealtimeItem[],
  nextId: (kind: 'create' | 'delete') => string,
): { events: Record<string, unknown>[]; skipped: number } {
  const { removals, additions, updates } = diffHistory(oldHistory, newHistory);
  const recreate = new Set([...additions, ...updates].map((item) => item.itemId));
  const events: Record<string, unknown>[] = [...removals, ...updates].map((item) => ({
    type: 'conversation.item.delete',
    item_id: item.itemId,
    event_id: nextId('delete'),
  }));
  const lastKept = newHistory.findLastIndex((item) => !recreate.has(item.itemId));
  let previous = 'root';
  let skipped = 0;
  newHistory.forEach((item, index) => {
    if (!recreate.has(item.itemId)) {
      previous = item.itemId;
    } else if (item.type !== 'message') {
      skipped++;
    } else {
      const status = item.role === 'system' ? {} : { status: item.status };
      events.push({
        type: 'conversation.item.create',
        ...(index < lastKept ? { previous_item_id: previous } : {}),
        item: { type: 'message', role: item.role, content: item.content, id: item.itemId, ...status },
        event_id: nextId('create'),
      });
      previous = item.itemId;
    }
  });
  return { events, skipped };
}
