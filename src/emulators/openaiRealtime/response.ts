/**
 * One response: drives the brain and turns its parts into the GA event sequence.
 *
 *   response.created → rate_limits.updated
 *   → per message:  output_item.added → conversation.item.added → content_part.added
 *                   → (output_audio_transcript.delta | output_audio.delta)*  (output_text.delta* for text)
 *                   → output_audio.done → output_audio_transcript.done → content_part.done
 *                   → output_item.done → conversation.item.done
 *   → per tool call: output_item.added → conversation.item.added → function_call_arguments.delta/.done
 *                   → output_item.done {status: completed} → conversation.item.done
 *     (a brain's hang-up is a call to the session's `end_call` tool, when it offers one)
 *   → response.done {status, output, usage}
 *
 * Audio is sent in chunks of `chunkMs`, paced at `speed` × real time (the service also sends faster than real
 * time). A cancel emits the closing events of whatever is open, synchronously, then `response.done`
 * {status: cancelled}; the brain's signal is aborted and anything it yields later is dropped.
 */
import type { BrainSession, BrainTurn } from '../../agent/brain.js';
import type { Logger } from '../../log.js';
import type { AudioFormat } from '../../media/format.js';
import { BrainRun, realTimeMultiple } from '../brainRun.js';
import type { FormatPatch, VoicePatch } from './clientEvents.js';
import { type Conversation, type StoredAudio, type StoredItem, storedAudioMs } from './conversation.js';
import type {
  CancelReason,
  FunctionCallItem,
  Item,
  MessageItem,
  ServerEventBody,
  Usage,
} from './protocol.js';
import { mediaFormat } from './sessionConfig.js';

export interface ResponseHost {
  send(event: ServerEventBody): void;
  newId(prefix: string): string;
  readonly conversation: Conversation;
  readonly log: Logger;
  /** The brain heard the user say `text` in the turn's user item. */
  userTranscript(itemId: string, text: string): void;
  /** Audio went out: the session's voice is now fixed. */
  audioProduced(): void;
  finished(run: ResponseRun): void;
}

export interface ResponseSetup {
  readonly id: string;
  /** False for `conversation: "none"` (out-of-band): items are not added to the conversation. */
  readonly inConversation: boolean;
  readonly conversationId: string | null;
  readonly modality: 'audio' | 'text';
  readonly format: FormatPatch;
  readonly voice: VoicePatch;
  readonly maxOutputTokens: number | 'inf';
  readonly metadata: Record<string, string> | null;
  readonly chunkMs: number;
  /** Pace multiple of real time; Infinity sends as fast as the socket takes it. */
  readonly speed: number;
  readonly turn: Omit<BrainTurn, 'signal'>;
}

interface StatusDetails {
  type: 'cancelled' | 'failed';
  reason?: CancelReason;
  error?: { type: string; code: string; message: string };
}

interface OpenMessage {
  readonly stored: StoredItem;
  readonly item: MessageItem & { role: 'assistant' };
  readonly outputIndex: number;
  readonly previousId: string | null;
  text: string;
  audio: StoredAudio | null;
}

export class ResponseRun {
  readonly id: string;
  readonly inConversation: boolean;
  readonly #host: ResponseHost;
  readonly #setup: ResponseSetup;
  readonly #brainRun: BrainRun;
  readonly #target: AudioFormat;
  #done = false;
  readonly #output: Item[] = [];
  #open: OpenMessage | null = null;
  #outTextChars = 0;
  #outAudioMs = 0;

  constructor(host: ResponseHost, setup: ResponseSetup) {
    this.#host = host;
    this.#setup = setup;
    this.id = setup.id;
    this.inConversation = setup.inConversation;
    this.#target = mediaFormat(setup.format);
    this.#brainRun = new BrainRun(
      {
        format: this.#target,
        chunkMs: setup.chunkMs,
        pacer: realTimeMultiple(setup.speed),
        wantsAudio: () => setup.modality === 'audio',
      },
      {
        text: (delta) => this.#text(delta),
        audio: (chunk) => this.#audio(chunk),
        toolCall: (part) => this.#toolCall(part.name, part.arguments, part.callId),
        userTranscript: (text) => {
          const user = this.#setup.turn.user;
          if (user !== undefined) this.#host.userTranscript(user.itemId, text);
        },
        hangup: (reason) => this.#hangup(reason),
      },
    );
  }

  /** Sends `response.created` and starts the brain. */
  start(brain: BrainSession): void {
    this.#host.send({ type: 'response.created', response: this.#response('in_progress') });
    this.#host.send({
      type: 'rate_limits.updated',
      rate_limits: [
        { name: 'requests', limit: 10_000, remaining: 9_999, reset_seconds: 0.006 },
        { name: 'tokens', limit: 2_000_000, remaining: 1_999_000, reset_seconds: 0.03 },
      ],
    });
    void this.#run(brain);
  }

  /** Cancels; returns false when the response already ended. */
  cancel(reason: CancelReason): boolean {
    if (this.#done) return false;
    this.#brainRun.abort();
    this.#closeMessage('incomplete');
    this.#finish('cancelled', { type: 'cancelled', reason });
    return true;
  }

  /** Ends the response without events (the socket is gone). */
  abandon(): void {
    this.#done = true;
    this.#brainRun.abort();
  }

  async #run(brain: BrainSession): Promise<void> {
    const run = this.#brainRun;
    try {
      const outcome = await run.run(brain.respond({ ...this.#setup.turn, signal: run.signal }));
      if (this.#done || outcome === 'aborted') return;
      this.#closeMessage('completed');
      this.#finish('completed', null);
    } catch (err) {
      if (this.#done) return;
      this.#host.log.warn({ err, responseId: this.id }, 'brain failed');
      this.#closeMessage('incomplete');
      this.#finish('failed', {
        type: 'failed',
        error: {
          type: 'server_error',
          code: 'brain_failed',
          message: 'The response could not be generated.',
        },
      });
    }
  }

  #text(delta: string): void {
    if (delta === '') return;
    const m = this.#message();
    m.text += delta;
    this.#outTextChars += delta.length;
    const ids = this.#ids(m);
    if (this.#setup.modality === 'audio')
      this.#host.send({ type: 'response.output_audio_transcript.delta', ...ids, delta });
    else this.#host.send({ type: 'response.output_text.delta', ...ids, delta });
  }

  /** One paced chunk of response audio: kept with the message, sent as a delta. */
  #audio(chunk: Uint8Array): void {
    const m = this.#message();
    m.audio ??= { format: this.#target, chunks: [], bytes: 0 };
    const audio = m.audio;
    m.stored.audio = audio;
    audio.chunks.push(chunk);
    audio.bytes += chunk.length;
    this.#host.send({
      type: 'response.output_audio.delta',
      ...this.#ids(m),
      delta: Buffer.from(chunk).toString('base64'),
    });
    this.#host.audioProduced();
  }

  #toolCall(name: string, args: Readonly<Record<string, unknown>> | string, callId?: string): void {
    if (!this.#setup.turn.tools.some((t) => t.name === name)) {
      this.#host.log.warn(
        { responseId: this.id, tool: name },
        'brain called a tool the session does not offer; dropped',
      );
      return;
    }
    this.#closeMessage('completed');
    const argText = typeof args === 'string' ? args : JSON.stringify(args);
    const item: FunctionCallItem = {
      id: this.#host.newId('item'),
      object: 'realtime.item',
      type: 'function_call',
      status: 'in_progress',
      name,
      call_id: callId ?? this.#host.newId('call'),
      arguments: '',
    };
    const outputIndex = this.#output.length;
    this.#output.push(item);
    const base = { response_id: this.id, output_index: outputIndex };
    this.#host.send({ type: 'response.output_item.added', ...base, item: { ...item } });
    const previousId = this.#addToConversation({ item });
    const ids = { ...base, item_id: item.id, call_id: item.call_id };
    this.#host.send({ type: 'response.function_call_arguments.delta', ...ids, delta: argText });
    this.#host.send({ type: 'response.function_call_arguments.done', ...ids, name, arguments: argText });
    item.arguments = argText;
    item.status = 'completed';
    this.#outTextChars += argText.length;
    this.#host.send({ type: 'response.output_item.done', ...base, item: { ...item } });
    if (this.inConversation)
      this.#host.send({ type: 'conversation.item.done', previous_item_id: previousId, item: { ...item } });
  }

  /**
   * The brain ends the call. OpenAI Realtime has no end-of-call event: an application that lets the model hang up
   * offers a tool for it. When the session offers `end_call`, the hang-up becomes a call to it, after the audio
   * already sent (the goodbye), with `{reason}` when the tool's schema has a `reason` property; else it is
   * dropped, as a model without such a tool could not end the call.
   */
  #hangup(reason: string | undefined): void {
    const tool = this.#setup.turn.tools.find((t) => t.name === END_CALL_TOOL);
    if (tool === undefined) {
      this.#host.log.debug(
        { responseId: this.id },
        'brain hangup dropped: the session offers no end_call tool',
      );
      return;
    }
    this.#toolCall(
      END_CALL_TOOL,
      reason !== undefined && hasProperty(tool.parameters, 'reason') ? { reason } : {},
    );
  }

  /** The open assistant message, opened (with its announcements) on first use. */
  #message(): OpenMessage {
    if (this.#open !== null) return this.#open;
    const item: MessageItem & { role: 'assistant' } = {
      id: this.#host.newId('item'),
      object: 'realtime.item',
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    const outputIndex = this.#output.length;
    this.#output.push(item);
    this.#host.send({
      type: 'response.output_item.added',
      response_id: this.id,
      output_index: outputIndex,
      item: snapshot(item),
    });
    const stored: StoredItem = { item };
    const previousId = this.#addToConversation(stored);
    const open: OpenMessage = { stored, item, outputIndex, previousId, text: '', audio: null };
    this.#open = open;
    this.#host.send({ type: 'response.content_part.added', ...this.#ids(open), part: this.#part(open) });
    return open;
  }

  #addToConversation(stored: StoredItem): string | null {
    if (!this.inConversation) return null;
    const previousId = this.#host.conversation.insert(stored);
    this.#host.send({
      type: 'conversation.item.added',
      previous_item_id: previousId,
      item: snapshot(stored.item),
    });
    return previousId;
  }

  #closeMessage(status: 'completed' | 'incomplete'): void {
    const m = this.#open;
    if (m === null) return;
    this.#open = null;
    const ids = this.#ids(m);
    if (this.#setup.modality === 'audio') {
      this.#host.send({ type: 'response.output_audio.done', ...ids });
      this.#host.send({ type: 'response.output_audio_transcript.done', ...ids, transcript: m.text });
      m.item.content = [{ type: 'output_audio', transcript: m.text }];
    } else {
      this.#host.send({ type: 'response.output_text.done', ...ids, text: m.text });
      m.item.content = [{ type: 'output_text', text: m.text }];
    }
    this.#host.send({ type: 'response.content_part.done', ...ids, part: this.#part(m) });
    m.item.status = status;
    this.#host.send({
      type: 'response.output_item.done',
      response_id: this.id,
      output_index: m.outputIndex,
      item: snapshot(m.item),
    });
    if (this.inConversation) {
      this.#host.send({
        type: 'conversation.item.done',
        previous_item_id: m.previousId,
        item: snapshot(m.item),
      });
    }
    if (m.audio !== null) this.#outAudioMs += storedAudioMs(m.audio);
  }

  #finish(status: 'completed' | 'cancelled' | 'failed', details: StatusDetails | null): void {
    this.#done = true;
    this.#brainRun.abort();
    this.#host.send({ type: 'response.done', response: this.#response(status, details, true) });
    this.#host.finished(this);
  }

  #ids(m: OpenMessage): {
    response_id: string;
    item_id: string;
    output_index: number;
    content_index: number;
  } {
    return { response_id: this.id, item_id: m.item.id, output_index: m.outputIndex, content_index: 0 };
  }

  #part(m: OpenMessage): { type: 'audio'; transcript: string } | { type: 'text'; text: string } {
    return this.#setup.modality === 'audio'
      ? { type: 'audio', transcript: m.text }
      : { type: 'text', text: m.text };
  }

  #response(
    status: 'in_progress' | 'completed' | 'cancelled' | 'failed',
    details?: StatusDetails | null,
    final = false,
  ) {
    const s = this.#setup;
    return {
      id: this.id,
      object: 'realtime.response' as const,
      status,
      status_details: details ?? null,
      output: final ? this.#output.map(snapshot) : [],
      conversation_id: s.conversationId,
      output_modalities: [s.modality],
      max_output_tokens: s.maxOutputTokens,
      audio: { output: { format: s.format, voice: typeof s.voice === 'string' ? s.voice : s.voice.id } },
      usage: final ? this.#usage() : null,
      metadata: s.metadata,
    };
  }

  /** Token counts are estimates: text ≈ 4 characters a token; audio ≈ 10 tokens/s in, 20 tokens/s out. */
  #usage(): Usage {
    let inText = Math.ceil(this.#setup.turn.instructions.length / 4);
    let inAudio = 0;
    for (const entry of this.#setup.turn.history) {
      if (entry.kind === 'message') {
        inText += Math.ceil(entry.text.length / 4);
        inAudio += Math.ceil((entry.audioMs ?? 0) / 100);
      } else if (entry.kind === 'tool_call') inText += Math.ceil(entry.arguments.length / 4);
      else inText += Math.ceil(entry.output.length / 4);
    }
    const outText = Math.ceil(this.#outTextChars / 4);
    const outAudio = Math.ceil(this.#outAudioMs / 50);
    const input = inText + inAudio;
    const output = outText + outAudio;
    return {
      total_tokens: input + output,
      input_tokens: input,
      output_tokens: output,
      input_token_details: {
        text_tokens: inText,
        audio_tokens: inAudio,
        image_tokens: 0,
        cached_tokens: 0,
        cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
      },
      output_token_details: { text_tokens: outText, audio_tokens: outAudio },
    };
  }
}

/** The tool a brain's hang-up is mapped to, when the session offers it. */
export const END_CALL_TOOL = 'end_call';

/** Whether a JSON Schema object declares `name` among its properties. */
function hasProperty(schema: unknown, name: string): boolean {
  const properties = (schema as { properties?: unknown } | null | undefined)?.properties;
  return typeof properties === 'object' && properties !== null && Object.hasOwn(properties, name);
}

/** A copy of an item as it is now (later mutation must not change what was sent). */
function snapshot<T extends Item>(item: T): T {
  return structuredClone(item);
}
