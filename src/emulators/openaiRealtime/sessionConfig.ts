/**
 * The session object: defaults as `session.created` shows them, and the merge rules of `session.update` (only
 * provided fields change; `""` clears instructions, `[]` clears tools, `null` clears turn detection, noise
 * reduction and transcription; the voice is fixed once the session has produced audio). The reply is always the
 * full effective session.
 */
import type * as RT from 'openai/resources/realtime/realtime.js';
import { ALAW_8K, type AudioFormat, PCM16_24K, ULAW_8K } from '../../media/format.js';
import type {
  FormatPatch,
  SessionPatch,
  ToolChoicePatch,
  ToolPatch,
  TurnDetectionPatch,
  VoicePatch,
} from './clientEvents.js';
import { ClientEventError, OpenAIErrorCodes, type Wire } from './protocol.js';

export type ServerVadState = Required<RT.RealtimeAudioInputTurnDetection.ServerVad>;
export type SemanticVadState = Required<RT.RealtimeAudioInputTurnDetection.SemanticVad>;
export type TurnDetectionState = ServerVadState | SemanticVadState;

export interface SessionState {
  type: 'realtime';
  object: 'realtime.session';
  id: string;
  model: string;
  output_modalities: ('audio' | 'text')[];
  instructions: string;
  tools: ToolPatch[];
  tool_choice: ToolChoicePatch;
  max_output_tokens: number | 'inf';
  parallel_tool_calls?: boolean;
  reasoning?: Record<string, unknown>;
  tracing: SessionPatch['tracing'] | null;
  truncation: NonNullable<SessionPatch['truncation']>;
  prompt: SessionPatch['prompt'] | null;
  include: 'item.input_audio_transcription.logprobs'[] | null;
  expires_at: number;
  audio: {
    input: {
      format: FormatPatch;
      transcription: { model?: string; language?: string; prompt?: string } | null;
      noise_reduction: { type?: 'near_field' | 'far_field' } | null;
      turn_detection: TurnDetectionState | null;
    };
    output: { format: FormatPatch; voice: VoicePatch; speed: number };
  };
}

// Compile-time check against the typings (with the nulls the live service sends).
type Assignable<T extends U, U> = T;
export type _SessionCheck = Assignable<
  Omit<SessionState, 'id' | 'object' | 'expires_at'>,
  Wire<RT.RealtimeSessionCreateRequest>
>;

/** The instructions a fresh session has (the service fills in its own default prompt). */
export const DEFAULT_INSTRUCTIONS =
  'You are a helpful voice assistant running in the voxgate OpenAI Realtime emulator. Keep answers short.';
export const DEFAULT_MODEL = 'gpt-realtime';
/** `session.created` shows 200 ms; the typings document 500 ms (spec §9). We send what the service sends. */
const DEFAULT_SILENCE_MS = 200;

export function defaultServerVad(): ServerVadState {
  return {
    type: 'server_vad',
    threshold: 0.5,
    prefix_padding_ms: 300,
    silence_duration_ms: DEFAULT_SILENCE_MS,
    idle_timeout_ms: null,
    create_response: true,
    interrupt_response: true,
  };
}

export function defaultSession(id: string, model: string, nowMs: number, maxSessionMs: number): SessionState {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: DEFAULT_INSTRUCTIONS,
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    include: null,
    expires_at: Math.floor((nowMs + maxSessionMs) / 1000),
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: defaultServerVad(),
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
    },
  };
}

/** What changed, so the connection can react (reset the input buffer, re-arm VAD). */
export interface SessionChange {
  inputFormat: boolean;
  turnDetection: boolean;
}

/**
 * Applies a validated patch in place. Throws a ClientEventError (and changes nothing) when a rule forbids the
 * change, e.g. a new voice after audio was produced.
 */
export function applySessionPatch(
  session: SessionState,
  patch: SessionPatch,
  audioProduced: boolean,
): SessionChange {
  const out = patch.audio?.output;
  if (
    out?.voice !== undefined &&
    audioProduced &&
    JSON.stringify(out.voice) !== JSON.stringify(session.audio.output.voice)
  ) {
    throw new ClientEventError(
      OpenAIErrorCodes.invalidValue,
      'Cannot update the voice once the session has produced audio.',
      'session.audio.output.voice',
    );
  }
  const change: SessionChange = { inputFormat: false, turnDetection: false };
  // The official client sends its own model in every session.update, which may differ from the URL's model;
  // the service accepts it, so we adopt it rather than fail the client.
  if (patch.model !== undefined) session.model = patch.model;
  if (patch.instructions !== undefined) session.instructions = patch.instructions;
  if (patch.output_modalities !== undefined) session.output_modalities = [...patch.output_modalities];
  if (patch.max_output_tokens !== undefined) session.max_output_tokens = patch.max_output_tokens;
  if (patch.tools !== undefined) session.tools = [...patch.tools];
  if (patch.tool_choice !== undefined) session.tool_choice = patch.tool_choice;
  if (patch.parallel_tool_calls !== undefined) session.parallel_tool_calls = patch.parallel_tool_calls;
  if (patch.reasoning !== undefined) session.reasoning = patch.reasoning;
  if (patch.tracing !== undefined) session.tracing = patch.tracing;
  if (patch.truncation !== undefined) session.truncation = patch.truncation;
  if (patch.prompt !== undefined) session.prompt = patch.prompt;
  if (patch.include !== undefined) session.include = patch.include === null ? null : [...patch.include];
  const input = patch.audio?.input;
  if (input !== undefined) {
    const a = session.audio.input;
    if (input.format !== undefined) {
      change.inputFormat = formatKey(input.format) !== formatKey(a.format);
      a.format = normalizeFormat(input.format);
    }
    if (input.transcription !== undefined) a.transcription = input.transcription;
    if (input.noise_reduction !== undefined) a.noise_reduction = input.noise_reduction;
    if (input.turn_detection !== undefined) {
      a.turn_detection = mergeTurnDetection(a.turn_detection, input.turn_detection);
      change.turnDetection = true;
    }
  }
  if (out !== undefined) {
    const o = session.audio.output;
    if (out.format !== undefined) o.format = normalizeFormat(out.format);
    if (out.voice !== undefined) o.voice = out.voice;
    if (out.speed !== undefined) o.speed = out.speed;
  }
  return change;
}

function mergeTurnDetection(
  current: TurnDetectionState | null,
  patch: TurnDetectionPatch | null,
): TurnDetectionState | null {
  if (patch === null) return null;
  if (patch.type === 'server_vad') {
    const base = current?.type === 'server_vad' ? current : defaultServerVad();
    return {
      type: 'server_vad',
      threshold: patch.threshold ?? base.threshold,
      prefix_padding_ms: patch.prefix_padding_ms ?? base.prefix_padding_ms,
      silence_duration_ms: patch.silence_duration_ms ?? base.silence_duration_ms,
      idle_timeout_ms: patch.idle_timeout_ms === undefined ? base.idle_timeout_ms : patch.idle_timeout_ms,
      create_response: patch.create_response ?? base.create_response,
      interrupt_response: patch.interrupt_response ?? base.interrupt_response,
    };
  }
  const base = current?.type === 'semantic_vad' ? current : undefined;
  return {
    type: 'semantic_vad',
    eagerness: patch.eagerness ?? base?.eagerness ?? 'auto',
    create_response: patch.create_response ?? base?.create_response ?? true,
    interrupt_response: patch.interrupt_response ?? base?.interrupt_response ?? true,
  };
}

function normalizeFormat(f: FormatPatch): FormatPatch {
  return f.type === 'audio/pcm' ? { type: 'audio/pcm', rate: 24000 } : { type: f.type };
}

function formatKey(f: FormatPatch): string {
  return f.type;
}

/** The media-layer format of a wire format. */
export function mediaFormat(f: FormatPatch): AudioFormat {
  if (f.type === 'audio/pcmu') return ULAW_8K;
  if (f.type === 'audio/pcma') return ALAW_8K;
  return PCM16_24K;
}

/** Function tools only: MCP tools are echoed but the emulator cannot call them. */
export function functionTools(
  tools: readonly ToolPatch[],
): { name: string; description?: string; parameters?: unknown }[] {
  const out: { name: string; description?: string; parameters?: unknown }[] = [];
  for (const t of tools) {
    if (t.type === 'function')
      out.push({ name: t.name, description: t.description, parameters: t.parameters });
  }
  return out;
}
