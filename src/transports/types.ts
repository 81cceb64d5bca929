import type { EventEmitter } from 'node:events';
import type { VoxgateError } from '../errors.js';
import type { AudioFormat } from '../media/format.js';

/**
 * The caller-side seam. One file per wire protocol implements it (`vapiWebSocket.ts` now; Twilio media streams
 * and SIP later); the scenario's `Call` sits on top and never sees the wire. A leaf: import it with `import type`.
 */

/** Why a call ended, as reported in `GET /call/:id` and the end-of-call report. */
export type CallEndReason =
  | 'customer-ended-call'
  | 'assistant-ended-call'
  | 'customer-did-not-answer'
  | 'api-ended-call'
  | 'server-shutdown'
  | 'scenario-terminated'
  | 'transport-error'
  | 'idle-timeout'
  | 'provider-error';

/** A control message from the caller, already validated by the transport. */
export type CallerControl =
  | { type: 'end-call' }
  | { type: 'say'; content: string; endCallAfterSpoken?: boolean }
  | { type: 'add-message'; message: { role: string; content: string }; triggerResponseEnabled?: boolean }
  | { type: 'control'; control: string };

export interface CallTransportEvents {
  /** Caller audio in `format`, in exact 20 ms frames (the transport frames the wire's chunks). */
  audio: [frame: Uint8Array];
  control: [message: CallerControl];
  /** The wire is gone (peer closed, error, or `close()` was called). Fires once. */
  close: [reason: CallEndReason];
  /** Bad input from the caller; the call goes on. */
  error: [error: VoxgateError];
}

export interface CallTransport extends EventEmitter<CallTransportEvents> {
  /** The wire protocol, e.g. `'vapi.websocket'`. */
  readonly kind: string;
  /** The caller's audio format on the wire, both directions. */
  readonly format: AudioFormat;
  /** One frame of audio to the caller, already paced by the sender. */
  sendAudio(frame: Uint8Array): void;
  /** A JSON message to the caller (transcripts, status updates), if the protocol has a way to carry it. */
  sendMessage(message: Record<string, unknown>): void;
  /** Ends the wire. Idempotent; fires `close` with `reason` if it was still open. */
  close(reason: CallEndReason): void;
}
