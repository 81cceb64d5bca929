/**
 * The data messages of the `serverWebSocket` join socket (spec/ultravox.md §4.3): the client messages the
 * emulator accepts, validated with zod (optional fields may be `null`, as the documented examples send them;
 * unknown fields are ignored), and the server messages it sends.
 */
import { z } from 'zod';
import type { MessageMedium } from './callConfig.js';

const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

const toolResultFields = {
  invocationId: z.string().min(1),
  result: opt(z.string()),
  responseType: opt(z.string()),
  agentReaction: opt(z.enum(['speaks', 'listens', 'speaks-once'])),
  errorType: opt(z.enum(['undefined', 'implementation-error'])),
  errorMessage: opt(z.string()),
  updateCallState: opt(z.record(z.string(), z.unknown())),
};

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('ping'), timestamp: z.number() }),
  z.looseObject({
    type: z.literal('user_text_message'),
    text: z.string(),
    urgency: opt(z.enum(['immediate', 'soon', 'later'])),
    threadId: opt(z.string()),
  }),
  z.looseObject({ type: z.literal('input_text_message'), text: z.string(), deferResponse: opt(z.boolean()) }),
  z.looseObject({ type: z.literal('set_output_medium'), medium: z.enum(['voice', 'text']) }),
  z.looseObject({ type: z.literal('client_tool_result'), ...toolResultFields }),
  z.looseObject({ type: z.literal('data_connection_tool_result'), ...toolResultFields }),
  z.looseObject({
    type: z.literal('forced_agent_message'),
    content: opt(z.string()),
    toolCalls: opt(
      z.array(
        z.looseObject({
          id: opt(z.string()),
          name: z.string(),
          arguments: opt(z.union([z.string(), z.record(z.string(), z.unknown())])),
        }),
      ),
    ),
    knownToolResults: opt(z.array(z.looseObject({ invocationId: z.string(), result: opt(z.string()) }))),
    uninterruptible: opt(z.boolean()),
    urgency: opt(z.enum(['immediate', 'soon'])),
    threadId: opt(z.string()),
  }),
  z.looseObject({ type: z.literal('hang_up'), message: opt(z.string()) }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export type ToolResultMessage = Extract<
  ClientMessage,
  { type: 'client_tool_result' | 'data_connection_tool_result' }
>;
export type ForcedAgentMessage = Extract<ClientMessage, { type: 'forced_agent_message' }>;

export const CLIENT_MESSAGE_TYPES: readonly string[] = clientMessageSchema.options.map(
  (o) => o.shape.type.value,
);

/** The messages `POST /api/calls/{id}/send_data_message` accepts. */
export const REST_MESSAGE_TYPES: readonly string[] = ['forced_agent_message', 'hang_up', 'user_text_message'];

export type AgentState = 'idle' | 'listening' | 'thinking' | 'speaking';

export type ServerMessage =
  | { type: 'call_started'; callId: string }
  | { type: 'pong'; timestamp: number }
  | { type: 'state'; state: AgentState }
  | {
      type: 'transcript';
      role: 'user' | 'agent';
      medium: MessageMedium;
      text?: string;
      delta?: string;
      final: boolean;
      ordinal: number;
    }
  | {
      type: 'client_tool_invocation' | 'data_connection_tool_invocation';
      toolName: string;
      invocationId: string;
      parameters: Record<string, unknown>;
    }
  | { type: 'playback_clear_buffer' }
  | { type: 'debug'; message: string }
  /** Emulator extension: the service documents no error message; clients ignore unknown types (§4.3). */
  | { type: 'error'; code: string; message: string };

/** Which `dataMessages` toggle governs a server message type (the ones not listed are always sent). */
export const TOGGLE_OF = {
  call_started: 'callStarted',
  pong: 'pong',
  state: 'state',
  transcript: 'transcript',
  client_tool_invocation: 'clientToolInvocation',
  data_connection_tool_invocation: 'dataConnectionToolInvocation',
  playback_clear_buffer: 'playbackClearBuffer',
  debug: 'debug',
} as const;
