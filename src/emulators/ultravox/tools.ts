/**
 * The tools of one Ultravox call: which the brain is offered (client tools, and data-connection tools when their
 * invocations are enabled on the socket; HTTP and durable tools are not emulated), the invocations in flight,
 * and the results as they come back. The conversation is frozen until every invocation has its result.
 */
import type { BrainHistoryEntry, BrainTool, BrainToolResult } from '../../agent/brain.js';
import type { ToolCallPart } from '../brainRun.js';
import type { AgentReaction, CallConfig, InitialMessage, SocketMedium } from './callConfig.js';
import type { ForcedAgentMessage, ServerMessage, ToolResultMessage } from './messages.js';

interface Pending {
  readonly name: string;
  readonly kind: 'client' | 'dataConnection';
  readonly reaction: AgentReaction;
}

/** What a result means for the conversation. */
export type Settled =
  | { readonly kind: 'problem'; readonly problem: string }
  /** Other invocations are still running. */
  | { readonly kind: 'waiting' }
  /** `responseType: "hang-up"`. */
  | { readonly kind: 'hang-up' }
  /** Every invocation is back: answer these results (unless `listens`). */
  | { readonly kind: 'answer'; readonly results: BrainToolResult[]; readonly reaction: AgentReaction };

export class CallTools {
  /** The tools the brain may call. */
  readonly offered: readonly BrainTool[];
  readonly #config: CallConfig;
  readonly #history: BrainHistoryEntry[];
  readonly #newId: () => string;
  readonly #pending = new Map<string, Pending>();
  readonly #results: BrainToolResult[] = [];

  /** `history` is the conversation's own list: calls and results are recorded in it. */
  constructor(config: CallConfig, socket: SocketMedium, history: BrainHistoryEntry[], newId: () => string) {
    this.#config = config;
    this.#history = history;
    this.#newId = newId;
    const dataConnections = socket.messages.dataConnectionToolInvocation;
    this.offered = config.tools
      .filter((t) => t.kind === 'client' || (t.kind === 'dataConnection' && dataConnections))
      .map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
  }

  /** Invocations waiting for their result. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The invocation message for a tool call of the agent, or null when the call offers no such tool. */
  invoke(part: ToolCallPart): ServerMessage | null {
    const tool = this.#config.tools.find((t) => t.name === part.name);
    if (tool === undefined || tool.kind === 'other' || !this.offered.some((t) => t.name === part.name))
      return null;
    const invocationId = part.callId ?? this.#newId();
    const parameters = parametersOf(part.arguments);
    const name = tool.name;
    this.#history.push({
      kind: 'tool_call',
      id: this.#newId(),
      callId: invocationId,
      name,
      arguments: JSON.stringify(parameters),
    });
    this.#pending.set(invocationId, { name, kind: tool.kind, reaction: tool.defaultReaction });
    const type = tool.kind === 'client' ? 'client_tool_invocation' : 'data_connection_tool_invocation';
    return { type, toolName: name, invocationId, parameters };
  }

  /** A `client_tool_result` or `data_connection_tool_result`; `callState` takes its `updateCallState`. */
  settle(message: ToolResultMessage, callState: Record<string, unknown>): Settled {
    const client = message.type === 'client_tool_result';
    const pending = this.#pending.get(message.invocationId);
    if (pending === undefined || pending.kind !== (client ? 'client' : 'dataConnection')) {
      const what = client ? 'client' : 'data connection';
      return { kind: 'problem', problem: `no ${what} tool invocation '${message.invocationId}' is pending` };
    }
    this.#pending.delete(message.invocationId);
    if (message.updateCallState) Object.assign(callState, message.updateCallState);
    const output = message.errorType
      ? `Error (${message.errorType}): ${message.errorMessage ?? 'the tool failed'}`
      : (message.result ?? '');
    this.#history.push({ kind: 'tool_result', id: this.#newId(), callId: message.invocationId, output });
    this.#results.push({ callId: message.invocationId, name: pending.name, output });
    if (message.responseType === 'hang-up') return { kind: 'hang-up' };
    if (this.#pending.size > 0) return { kind: 'waiting' };
    return {
      kind: 'answer',
      results: this.#results.splice(0),
      reaction: message.agentReaction ?? pending.reaction,
    };
  }

  /**
   * A forced agent message's `toolCalls` as tool call parts; those with a `knownToolResults` entry are not
   * invoked, only recorded with their result.
   */
  forcedCalls(message: ForcedAgentMessage): ToolCallPart[] {
    const known = new Map((message.knownToolResults ?? []).map((r) => [r.invocationId, r.result ?? '']));
    const calls: ToolCallPart[] = [];
    for (const c of message.toolCalls ?? []) {
      const output = c.id == null ? undefined : known.get(c.id);
      if (c.id != null && output !== undefined) {
        const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {});
        this.#history.push({
          kind: 'tool_call',
          id: this.#newId(),
          callId: c.id,
          name: c.name,
          arguments: args,
        });
        this.#history.push({ kind: 'tool_result', id: this.#newId(), callId: c.id, output });
        continue;
      }
      calls.push({
        type: 'tool_call',
        name: c.name,
        arguments: c.arguments ?? {},
        ...(c.id == null ? {} : { callId: c.id }),
      });
    }
    return calls;
  }
}

/** A creation request's `initialMessages` entry as history. */
export function historyEntry(m: InitialMessage, id: string): BrainHistoryEntry {
  const callId = m.invocationId ?? id;
  if (m.role === 'tool_call')
    return { kind: 'tool_call', id, callId, name: m.toolName ?? '', arguments: m.text };
  if (m.role === 'tool_result') return { kind: 'tool_result', id, callId, output: m.text };
  return { kind: 'message', id, role: m.role === 'agent' ? 'assistant' : 'user', text: m.text };
}

function parametersOf(args: ToolCallPart['arguments']): Record<string, unknown> {
  if (typeof args !== 'string') return { ...args };
  try {
    const parsed: unknown = JSON.parse(args);
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return isObject ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
