/**
 * The emulator's record of one Ultravox call, from creation to end, and the `Call` object the REST API shows.
 */
import type { CallConfig } from './callConfig.js';
import type { ClientMessage } from './messages.js';

/** `Call.endReason` values (spec/ultravox.md §2.4). */
export type EndReason =
  | 'unjoined'
  | 'hangup'
  | 'agent_hangup'
  | 'timeout'
  | 'connection_error'
  | 'system_error';

/** What the REST side needs from a joined call's session. */
export interface LiveCall {
  /** A data message from `send_data_message`, handled as if it came on the socket. */
  deliver(message: ClientMessage): void;
  end(reason: EndReason): void;
}

export interface EmulatedCall {
  readonly id: string;
  readonly config: CallConfig;
  readonly agentId: string | null;
  /** `ws://host:port/calls/<id>/join`; joining is refused when the call's medium is not `serverWebSocket`. */
  readonly joinUrl: string;
  readonly created: Date;
  joined: Date | null;
  ended: Date | null;
  endReason: EndReason | null;
  clientVersion: string | null;
  /** The call state tools read and write (`initialState`, then `updateCallState`). */
  readonly state: Record<string, unknown>;
  live: LiveCall | null;
  joinTimer: NodeJS.Timeout | null;
}

/** Marks the call ended (once) and stops its join timer. */
export function markEnded(call: EmulatedCall, reason: EndReason): void {
  if (call.ended !== null) return;
  call.ended = new Date();
  call.endReason = reason;
  call.live = null;
  if (call.joinTimer !== null) clearTimeout(call.joinTimer);
  call.joinTimer = null;
}

/** The `Call` object of the REST API. */
export function callView(call: EmulatedCall): Record<string, unknown> {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  const billed =
    call.joined === null
      ? null
      : `${(((call.ended ?? new Date()).getTime() - call.joined.getTime()) / 1000).toFixed(3)}s`;
  return {
    callId: call.id,
    clientVersion: call.clientVersion,
    created: iso(call.created),
    joined: iso(call.joined),
    ended: iso(call.ended),
    endReason: call.endReason,
    billedDuration: call.ended === null ? null : billed,
    billingStatus: call.ended === null ? 'BILLING_STATUS_PENDING' : 'BILLING_STATUS_BILLED',
    joinUrl: call.joinUrl,
    agent: call.agentId === null ? null : { agentId: call.agentId, name: call.agentId },
    agentId: call.agentId,
    shortSummary: null,
    summary: null,
    callbacks: null,
    sipDetails: null,
    retentionPolicy: 'CALL_RETENTION_POLICY_UNSPECIFIED',
    ...call.config.view,
    initialState: call.config.initialState,
  };
}
