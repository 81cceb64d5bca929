/**
 * From protocol state to the brain's view: which user message and tool results a response answers, which tools
 * it may call, and the VAD settings a turn-detection config means.
 */
import type { BrainTool, BrainToolResult, BrainTurn } from '../../agent/brain.js';
import { type TurnDetection, thresholdToMarginDb } from '../inputAudio.js';
import type { ItemInput, ResponseParams } from './clientEvents.js';
import { brainHistory, type Conversation, type StoredItem } from './conversation.js';
import { ClientEventError, type Item, OpenAIErrorCodes } from './protocol.js';
import type { ResponseSetup } from './response.js';
import { functionTools, mediaFormat, type SessionState, type TurnDetectionState } from './sessionConfig.js';

export interface TurnContext {
  readonly session: SessionState;
  readonly params: ResponseParams;
}

/** Everything a response needs, from the session and the `response.create` parameters (which win). */
export function responseSetup(
  session: SessionState,
  params: ResponseParams,
  conversation: Conversation,
  ids: { id: string; conversationId: string | null; pacing: { chunkMs: number; speed: number } },
): ResponseSetup {
  const ctx: TurnContext = { session, params };
  return {
    id: ids.id,
    inConversation: ids.conversationId !== null,
    conversationId: ids.conversationId,
    modality: (params.output_modalities ?? session.output_modalities)[0] ?? 'audio',
    format: params.audio?.output?.format ?? session.audio.output.format,
    voice: params.audio?.output?.voice ?? session.audio.output.voice,
    maxOutputTokens: params.max_output_tokens ?? session.max_output_tokens,
    metadata: params.metadata ?? null,
    chunkMs: ids.pacing.chunkMs,
    speed: ids.pacing.speed,
    turn:
      params.input === undefined
        ? turnFromConversation(conversation.items(), ctx)
        : turnFromInput(params.input, conversation, ctx),
  };
}

/** The turn for a response in the default conversation: it answers what came after the last answer. */
export function turnFromConversation(
  items: readonly StoredItem[],
  ctx: TurnContext,
): Omit<BrainTurn, 'signal'> {
  return buildTurn(items, ctx);
}

/** The turn for a response with its own `input` (out-of-band); `item_reference`s name conversation items. */
export function turnFromInput(
  input: NonNullable<ResponseParams['input']>,
  conversation: Conversation,
  ctx: TurnContext,
): Omit<BrainTurn, 'signal'> {
  const items: StoredItem[] = input.map((entry, i) => {
    if (entry.type === 'item_reference') {
      const stored = conversation.get(entry.id);
      if (stored === undefined) {
        throw new ClientEventError(
          OpenAIErrorCodes.itemNotFound,
          `Item with id '${entry.id}' not found.`,
          `response.input[${i}].id`,
        );
      }
      return stored;
    }
    return { item: inputItem(entry, `item_input_${i}`) };
  });
  return buildTurn(items, ctx);
}

function buildTurn(items: readonly StoredItem[], ctx: TurnContext): Omit<BrainTurn, 'signal'> {
  const toolResults: BrainToolResult[] = [];
  let user: BrainTurn['user'];
  const names = new Map<string, string>();
  for (const { item } of items) if (item.type === 'function_call') names.set(item.call_id, item.name);
  for (let i = items.length - 1; i >= 0; i--) {
    const { item, audio } = items[i]!;
    if (item.type === 'function_call' || (item.type === 'message' && item.role === 'assistant')) break;
    if (item.type === 'function_call_output') {
      toolResults.unshift({ callId: item.call_id, name: names.get(item.call_id), output: item.output });
    } else if (item.type === 'message' && item.role === 'user' && user === undefined) {
      let text: string | undefined;
      for (const c of item.content) {
        const t = c.text ?? c.transcript;
        if (typeof t === 'string') text = (text ?? '') + t;
      }
      user = {
        itemId: item.id,
        ...(text === undefined ? {} : { text }),
        ...(audio?.pcm ? { audio: audio.pcm } : {}),
      };
    }
  }
  const s = ctx.session;
  const p = ctx.params;
  const format = p.audio?.output?.format ?? s.audio.output.format;
  return {
    ...(user === undefined ? {} : { user }),
    toolResults,
    history: brainHistory(items),
    tools: allowedTools(p.tools ?? s.tools, p.tool_choice ?? s.tool_choice),
    instructions: p.instructions ?? s.instructions,
    output: {
      audio: ((p.output_modalities ?? s.output_modalities)[0] ?? 'audio') === 'audio',
      sampleRate: mediaFormat(format).sampleRate,
    },
  };
}

function allowedTools(tools: SessionState['tools'], choice: SessionState['tool_choice']): BrainTool[] {
  const all = functionTools(tools);
  if (choice === 'none') return [];
  if (typeof choice === 'object' && choice.type === 'function')
    return all.filter((t) => t.name === choice.name);
  return all;
}

function inputItem(entry: ItemInput, id: string): Item {
  if (entry.type === 'message') {
    return { ...entry, id: entry.id ?? id, object: 'realtime.item', status: 'completed' } as Item;
  }
  if (entry.type === 'function_call') {
    return {
      ...entry,
      id: entry.id ?? id,
      object: 'realtime.item',
      status: 'completed',
      call_id: entry.call_id ?? `call_${id}`,
    };
  }
  return { ...entry, id: entry.id ?? id, object: 'realtime.item', status: 'completed' };
}

/** Speech must last this long to start a turn: the detector's default, so a click (≤ 60 ms) does not. */
const SPEECH_START_MS = 80;

/**
 * The turn detector settings a `turn_detection` config means (the detector: src/agent/vad.ts, fvad ANDed with an
 * energy gate). `server_vad`: `silence_duration_ms` is the silence that ends the turn; `prefix_padding_ms` is how
 * much audio before the detected start the committed item (and `audio_start_ms`) begins; `threshold` (0..1,
 * "higher needs louder audio, better in noisy environments") sets how far above the tracked noise floor a frame
 * must be: 18 dB × threshold, so the default 0.5 is the detector's own 9 dB ({@link thresholdToMarginDb}); the
 * absolute floor stays -55 dBFS. Speech starts after {@link SPEECH_START_MS} of voice (the service has no knob
 * for it). `semantic_vad` is emulated with the same detector: eagerness picks the silence that ends a turn
 * (low 800 ms, medium/auto 500 ms, high 250 ms) with the default threshold and padding.
 */
export function vadSettings(td: TurnDetectionState): TurnDetection {
  if (td.type === 'server_vad') {
    return {
      startMs: SPEECH_START_MS,
      endMs: td.silence_duration_ms,
      marginDb: thresholdToMarginDb(td.threshold),
      prefixMs: td.prefix_padding_ms,
    };
  }
  const endMs = td.eagerness === 'low' ? 800 : td.eagerness === 'high' ? 250 : 500;
  return { startMs: SPEECH_START_MS, endMs, marginDb: thresholdToMarginDb(0.5), prefixMs: 300 };
}
