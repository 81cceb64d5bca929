/**
 * An in-memory CallTransport for scenario tests (to be exported as `voxgate/testing`): it records what the
 * scenario sends to the caller and lets a test play the caller — audio, control messages, hang-up — with no
 * network.
 */
import { EventEmitter } from 'node:events';
import type { VoxgateError } from '../errors.js';
import type { AudioFormat } from '../media/format.js';
import { ULAW_8K } from '../media/format.js';
import { Framer } from '../media/framer.js';
import type {
  CallEndReason,
  CallerControl,
  CallTransport,
  CallTransportEvents,
} from '../transports/types.js';

export class MemoryTransport extends EventEmitter<CallTransportEvents> implements CallTransport {
  readonly kind = 'memory';
  readonly format: AudioFormat;
  /** Copies of every frame sent to the caller, in order. */
  readonly sent: Uint8Array[] = [];
  /** `performance.now()` when each frame in `sent` arrived. */
  readonly sentAt: number[] = [];
  readonly messages: Record<string, unknown>[] = [];
  closedWith: CallEndReason | null = null;
  readonly #framer: Framer;

  constructor(format: AudioFormat = ULAW_8K) {
    super();
    this.format = format;
    this.#framer = new Framer(format);
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  sendAudio(frame: Uint8Array): void {
    if (this.closed) return;
    this.sent.push(Uint8Array.from(frame));
    this.sentAt.push(performance.now());
  }

  sendMessage(message: Record<string, unknown>): void {
    if (!this.closed) this.messages.push(message);
  }

  close(reason: CallEndReason): void {
    if (this.closed) return;
    this.closedWith = reason;
    this.emit('close', reason);
  }

  /** The caller speaks: `audio` in this transport's format, any length, cut into 20 ms frames. */
  injectAudio(audio: Uint8Array): void {
    this.#framer.push(audio, (frame) => this.emit('audio', frame));
  }

  injectControl(message: CallerControl): void {
    this.emit('control', message);
  }

  /** The caller sent something bad; the call goes on. */
  injectError(error: VoxgateError): void {
    this.emit('error', error);
  }

  /** The caller hangs up. */
  hangup(): void {
    this.close('customer-ended-call');
  }

  /** Everything sent to the caller so far, as one buffer (tests only). */
  sentAudio(): Buffer {
    return Buffer.concat(this.sent);
  }
}
