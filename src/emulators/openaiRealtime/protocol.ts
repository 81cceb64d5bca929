/**
 * Wire types of the OpenAI Realtime GA protocol, taken from the `openai` SDK's generated typings (`import type`
 * only), plus the few places where the live service and the official client need more than the typings say.
 *
 * `Wire<T>` lets every optional field also be `null`: the live service sends `null` for unset optional fields
 * (`status_details`, `transcript`, `include`, …), the typings only say "optional". Required fields stay
 * required, so the compiler checks that every event we build has them.
 */
import type * as RT from 'openai/resources/realtime/realtime.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Deeply: optional fields may also be `null`. */
export type Wire<T> = T extends readonly (infer U)[]
  ? Wire<U>[]
  : T extends object
    ? {
        [K in keyof T]: undefined extends T[K]
          ? Wire<Exclude<T[K], undefined>> | null | undefined
          : Wire<T[K]>;
      }
    : T;

/** A server event as we build it: everything but `event_id`, which `send` adds. */
export type ServerEventBody = Wire<DistributiveOmit<RT.RealtimeServerEvent, 'event_id'>>;

export type ClientEvent = RT.RealtimeClientEvent;
export type ClientEventType = ClientEvent['type'];

export const CLIENT_EVENT_TYPES: readonly ClientEventType[] = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
  'output_audio_buffer.clear',
];

/**
 * Conversation items as stored and sent. The official client needs `transcript` on a user `input_audio` part to
 * be present (`string | null`), which the typings leave optional; we always send it.
 */
export type UserContent = Wire<RT.RealtimeConversationItemUserMessage.Content>;
export type AssistantContent = Wire<RT.RealtimeConversationItemAssistantMessage.Content>;
export type MessageItem = {
  id: string;
  object: 'realtime.item';
  type: 'message';
  status: 'completed' | 'incomplete' | 'in_progress';
} & (
  | { role: 'user'; content: UserContent[] }
  | { role: 'system'; content: Wire<RT.RealtimeConversationItemSystemMessage.Content>[] }
  | { role: 'assistant'; content: AssistantContent[] }
);
export type FunctionCallItem = Required<Omit<RT.RealtimeConversationItemFunctionCall, 'object'>> & {
  object: 'realtime.item';
};
export type FunctionCallOutputItem = Required<
  Omit<RT.RealtimeConversationItemFunctionCallOutput, 'object'>
> & {
  object: 'realtime.item';
};
export type Item = MessageItem | FunctionCallItem | FunctionCallOutputItem;

// Compile-time check: our items are items in the typings' sense (with nulls allowed).
type Assignable<T extends U, U> = T;
export type _ItemCheck = Assignable<Item, Wire<RT.ConversationItem>>;

export type Usage = RT.RealtimeResponseUsage;
export type CancelReason = 'turn_detected' | 'client_cancelled';

/** The `error` object of an `error` event. */
export interface WireError {
  type: 'invalid_request_error' | 'server_error';
  code: string;
  message: string;
  param: string | null;
  event_id: string | null;
}

/** Error codes the emulator sends in `error.code`; docs/emulators.md lists them with their meaning. */
export const OpenAIErrorCodes = {
  invalidJson: 'invalid_json',
  invalidEvent: 'invalid_event',
  unknownEventType: 'invalid_value',
  missingParameter: 'missing_required_parameter',
  invalidType: 'invalid_type',
  invalidValue: 'invalid_value',
  unknownParameter: 'unknown_parameter',
  itemNotFound: 'item_not_found',
  duplicateItemId: 'duplicate_item_id',
  commitEmpty: 'input_audio_buffer_commit_empty',
  bufferFull: 'input_audio_buffer_full',
  activeResponse: 'conversation_already_has_active_response',
  cancelNotActive: 'response_cancel_not_active',
  truncateTooLong: 'invalid_value',
  notSupported: 'unsupported_over_websocket',
  idleTimeout: 'emulator_idle_timeout',
  sessionExpired: 'session_expired',
  brainFailed: 'server_error',
} as const;

/** A client-event problem: becomes an `error` event; the session goes on. */
export class ClientEventError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ClientEventError';
  }
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Ids shaped like the service's: a prefix and 21 base62 characters, e.g. `item_Bx3…`. */
export function createIdSource(seed?: number): (prefix: string) => string {
  let state = (seed ?? Math.floor(Math.random() * 0x7fffffff)) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: deterministic with a seed, cheap without one.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return (prefix) => {
    let s = `${prefix}_`;
    for (let i = 0; i < 21; i++) s += ALPHABET[next() % 62];
    return s;
  };
}
