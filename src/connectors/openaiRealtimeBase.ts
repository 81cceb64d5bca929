/**
 * What every OpenAI Realtime transport shares whatever carries it (WebSocket now; WebRTC or SIP later), as in
 * `@openai/agents-realtime`: the model and key, and the client events built from higher-level calls (messages,
 * tool outputs, session config, history resets). The subclass owns the connection and `sendEvent`.
 */
import type { Logger } from '../log.js';
import { TypedEmitter } from './base.js';
import {
  buildSessionPayload,
  DEFAULT_OPENAI_REALTIME_MODEL,
  encodeAudio,
  historyResetEvents,
} from './openaiRealtimeProtocol.js';
import type {
  ApiKey,
  ConnectionStatus,
  OpenAIRealtimeEventTypes,
  RealtimeClientEvent,
  RealtimeItem,
  RealtimeMcpCallApprovalRequestItem,
  RealtimeSessionConfig,
  RealtimeTransportLayerConnectOptions,
  RealtimeUserInput,
  TransportToolCallEvent,
} from './types.js';

export type ClientMessage = RealtimeClientEvent | { type: string; [key: string]: unknown };

export abstract class OpenAIRealtimeBase extends TypedEmitter<OpenAIRealtimeEventTypes> {
  protected readonly log: Logger;
  #model: string;
  #apiKey: ApiKey | undefined;
  #historySeq = 0;

  constructor(options: { model?: string | undefined; apiKey?: ApiKey | undefined }, log: Logger) {
    super(log);
    this.log = log;
    this.#model = options.model ?? DEFAULT_OPENAI_REALTIME_MODEL;
    this.#apiKey = options.apiKey;
  }

  abstract get status(): ConnectionStatus;
  abstract get muted(): boolean | null;
  abstract connect(options: RealtimeTransportLayerConnectOptions): Promise<void>;
  abstract sendEvent(event: ClientMessage): void;
  abstract mute(muted: boolean): void;
  abstract close(): void;
  abstract interrupt(): void;

  get currentModel(): string {
    return this.#model;
  }

  /** The model for the next connect(); it cannot change mid conversation. */
  set currentModel(model: string) {
    this.#model = model;
  }

  /** The key of `connect()` or the constructor, a function's result awaited; '' when there is none. */
  protected async _getApiKey(options: { apiKey?: ApiKey }): Promise<string> {
    const source = options.apiKey ?? this.#apiKey;
    const key = typeof source === 'function' ? await source() : source;
    if (source !== undefined) this.#apiKey = source;
    return typeof key === 'string' ? key : '';
  }

  /** Asks for a response (`response.create`). */
  requestResponse(response?: Record<string, unknown>): void {
    this.sendEvent({ type: 'response.create', ...(response ? { response } : {}) });
  }

  /** `input_audio_buffer.append` (+ `commit`). */
  sendAudio(audio: ArrayBuffer, options: { commit?: boolean } = {}): void {
    this.sendEvent({ type: 'input_audio_buffer.append', audio: encodeAudio(audio) });
    if (options.commit) this.sendEvent({ type: 'input_audio_buffer.commit' });
  }

  /** A user message (`conversation.item.create`), then a response unless `triggerResponse` is false. */
  sendMessage(
    message: RealtimeUserInput,
    otherEventData: Record<string, unknown>,
    options: { triggerResponse?: boolean } = {},
  ): void {
    const content =
      typeof message === 'string'
        ? [{ type: 'input_text', text: message }]
        : message.content.map((part) =>
            part.type === 'input_image'
              ? { type: 'input_image', image_url: part.image, ...part.providerData }
              : part,
          );
    const item = { type: 'message', role: 'user', content };
    this.sendEvent({ type: 'conversation.item.create', item, ...otherEventData });
    if (options.triggerResponse ?? true) this.requestResponse();
  }

  addImage(image: string, options: { triggerResponse?: boolean } = {}): void {
    this.sendMessage(
      { type: 'message', role: 'user', content: [{ type: 'input_image', image }] },
      {},
      options,
    );
  }

  /** The tool's output as a `function_call_output` item, then (by default) a new response. */
  sendFunctionCallOutput(toolCall: TransportToolCallEvent, output: string, startResponse = true): void {
    const item = { type: 'function_call_output', output, call_id: toolCall.callId };
    this.sendEvent({ type: 'conversation.item.create', item });
    if (toolCall.id !== undefined) {
      const placement =
        toolCall.previousItemId === undefined ? {} : { previousItemId: toolCall.previousItemId };
      const { arguments: args, name } = toolCall;
      this.emit('item_update', {
        itemId: toolCall.id,
        ...placement,
        type: 'function_call',
        status: 'completed',
        arguments: args,
        name,
        output,
      });
    }
    if (startResponse) this.requestResponse();
  }

  /** Merges `config` over the defaults and sends `session.update`. */
  updateSessionConfig(config: Partial<RealtimeSessionConfig>): void {
    this.sendEvent({ type: 'session.update', session: this.buildSessionPayload(config) });
  }

  /** The session payload `updateSessionConfig` would send. */
  buildSessionPayload(config: Partial<RealtimeSessionConfig>): Record<string, unknown> {
    return buildSessionPayload(config, this.#model);
  }

  /** Deletes removed or changed items, then recreates added or changed messages in place. */
  resetHistory(oldHistory: RealtimeItem[], newHistory: RealtimeItem[]): void {
    const reset = historyResetEvents(
      oldHistory,
      newHistory,
      (kind) => `voxgate_${kind}_${++this.#historySeq}`,
    );
    if (reset.skipped > 0)
      this.log.warn({ skipped: reset.skipped }, 'function calls cannot be recreated; skipped');
    for (const event of reset.events) this.sendEvent(event as ClientMessage);
  }

  sendMcpResponse(
    approvalRequest: RealtimeMcpCallApprovalRequestItem,
    approved: boolean,
    reason?: string,
  ): void {
    const id = approvalRequest.itemId;
    const item = {
      type: 'mcp_approval_response',
      approval_request_id: id,
      approve: approved,
      ...(reason === undefined ? {} : { reason }),
    };
    this.sendEvent({ type: 'conversation.item.create', previous_item_id: id, item });
  }
}
