import type { CallEndReason } from '../transports/types.js';
import type { WireCounters } from '../transports/vapiWebSocket.js';
import type { CallMessage, CallStats } from './registry.js';

/**
 * What a call tells its client on the media socket, in Vapi's client-message shapes (bare `{type, ...}` objects,
 * shared/spec/call-transports.md §1.4). The per-call glue sends status updates and the end-of-call report; the
 * scenario and connector layers feed transcripts, speech updates and interruptions through these methods (or
 * send the same shapes with `transport.sendMessage`, which is what these methods do).
 */
export type Role = 'user' | 'assistant';

export class CallMessages {
  readonly #send: (message: Record<string, unknown>) => void;
  readonly #turns = { user: 0, assistant: 0 };
  /** The current assistant turn, for `user-interrupted.turnId`. */
  #assistantTurn = -1;

  constructor(send: (message: Record<string, unknown>) => void) {
    this.#send = send;
  }

  statusUpdate(status: 'in-progress' | 'ended', endedReason?: CallEndReason): void {
    this.#send(
      endedReason === undefined
        ? { type: 'status-update', status, timestamp: Date.now() }
        : { type: 'status-update', status, endedReason, timestamp: Date.now() },
    );
  }

  /** A transcript line; `final: false` is a partial that a later final replaces. */
  transcript(role: Role, text: string, final: boolean): void {
    this.#send({
      type: 'transcript',
      role,
      transcriptType: final ? 'final' : 'partial',
      transcript: text,
      timestamp: Date.now(),
    });
  }

  /** Someone started or stopped speaking; `turn` counts each role's turns from 0. */
  speechUpdate(role: Role, status: 'started' | 'stopped'): void {
    const turn = status === 'started' ? this.#turns[role]++ : Math.max(0, this.#turns[role] - 1);
    if (role === 'assistant' && status === 'started') this.#assistantTurn = turn;
    this.#send({ type: 'speech-update', status, role, turn, timestamp: Date.now() });
  }

  /** The caller talked over the assistant, whose speech was cut (barge-in). */
  userInterrupted(): void {
    this.#send(
      this.#assistantTurn < 0
        ? { type: 'user-interrupted', timestamp: Date.now() }
        : { type: 'user-interrupted', turnId: String(this.#assistantTurn), timestamp: Date.now() },
    );
  }

  /** The assistant is taking long to answer. */
  hang(): void {
    this.#send({ type: 'hang', timestamp: Date.now() });
  }

  /** Any other client message, as is. */
  raw(message: Record<string, unknown>): void {
    this.#send(message);
  }
}

export interface ReportInput {
  id: string;
  endedReason: CallEndReason | undefined;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  conversation: readonly CallMessage[];
  stats?: CallStats;
}

/**
 * Vapi's `end-of-call-report` (a server-URL message there; voxgate also sends it on the call socket, last):
 * timing, the ended reason, and the conversation as `artifact.messages` and a `User:`/`AI:` transcript.
 */
export function endOfCallReport(input: ReportInput): Record<string, unknown> {
  const durationMs = input.endedAt - input.startedAt;
  const transcript = input.conversation
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role === 'bot' ? 'AI' : 'User'}: ${m.message}`)
    .join('\n');
  const report: Record<string, unknown> = {
    type: 'end-of-call-report',
    timestamp: input.endedAt,
    endedReason: input.endedReason,
    call: { id: input.id, type: 'vapi.websocketCall', status: 'ended' },
    startedAt: new Date(input.startedAt).toISOString(),
    endedAt: new Date(input.endedAt).toISOString(),
    durationMs,
    durationSeconds: durationMs / 1000,
    cost: 0,
    transcript,
    messages: input.conversation,
    artifact: { transcript, messages: input.conversation },
  };
  if (input.stats !== undefined) report.stats = input.stats;
  return report;
}

export function statsOf(c: WireCounters): CallStats {
  return {
    framesIn: c.framesIn,
    framesOut: c.framesOut,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    framesDropped: c.framesDropped,
    framesRefused: c.framesRefused,
  };
}
