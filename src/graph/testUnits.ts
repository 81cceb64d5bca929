import type { AudioFormat } from '../media/format.js';
import type { Link, SendMediaOptions } from './unit.js';
import { MediaUnit } from './unit.js';

/**
 * Small media units for tests and examples: a source that emits what it is told, and a sink that records what
 * it receives. They are real MediaUnits, so links between them convert and route exactly as in a call.
 */
export class TestSource extends MediaUnit {
  constructor(readonly format: AudioFormat) {
    super('test-source');
  }
  inputFormat(): AudioFormat {
    throw new TypeError('a TestSource accepts no audio');
  }
  receiveMedia(): void {}
  emit(frame: Uint8Array, tag?: string): void {
    if (tag === undefined) this.emitMedia(frame, this.format);
    else this.emitTaggedMedia(frame, this.format, tag);
  }
  clear(tag?: string): void {
    this.clearOutputs(tag);
  }
  close(): void {
    this.detachAll();
  }
}

export class TestSink extends MediaUnit {
  readonly frames: Uint8Array[] = [];
  readonly events: string[] = [];
  constructor(readonly format: AudioFormat) {
    super('test-sink');
  }
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return this.format;
  }
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.frames.push(frame);
  }
  protected override inputAttached(link: Link): void {
    this.events.push(`attached:${link.source.unitId}`);
  }
  protected override inputDetached(link: Link): void {
    this.events.push(`detached:${link.source.unitId}`);
  }
  protected override inputCleared(link: Link): void {
    this.events.push(`cleared:${link.source.unitId}`);
  }
  close(): void {
    this.detachAll();
  }
}
