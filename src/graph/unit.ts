import type { Converter } from '../media/convert.js';
import { createConverter } from '../media/convert.js';
import type { AudioFormat } from '../media/format.js';
import { mediaStats } from './stats.js';

/**
 * Options of a link, as given to `sendMediaTo`. `tag` selects a stream of a multi-stream source (a WebSocket's
 * inbound tags) and names the stream on a WebSocket target; `encoding` and `customParameters` matter only to
 * targets that announce a wire format (VoxEngine's rule: "WebSocket interaction only").
 */
export interface SendMediaOptions {
  tag?: string | undefined;
  encoding?: string | undefined;
  customParameters?: Record<string, string> | undefined;
}

let nextUnitId = 1;

/**
 * Anything that emits and/or accepts audio: a call leg, a VoxEngine WebSocket, a connector client.
 *
 * Routing rules (VoxEngine's): a unit receives one stream at a time, so a new inbound link replaces the old one;
 * a source may feed many targets. Frames move synchronously: `emitMedia` runs every link and every target's
 * `receiveMedia` before it returns.
 */
export abstract class MediaUnit {
  /** Process-unique id, for logs and tests. */
  readonly unitId: string;
  #outputs: Link[] = [];
  #input: Link | null = null;

  constructor(kind: string) {
    this.unitId = `${kind}-${nextUnitId++}`;
  }

  /** The format this unit wants to receive on a link with these options. Throws when it accepts no audio. */
  abstract inputFormat(options: Readonly<SendMediaOptions>): AudioFormat;

  /** One frame in `inputFormat(link.options)`, from the current inbound link. Must not keep `frame` past return
   * unless it owns it (links may pass the source's buffer through). */
  abstract receiveMedia(frame: Uint8Array, link: Link): void;

  /** Called when `link` becomes this unit's input (a WebSocket sends `start` here). */
  protected inputAttached(_link: Link): void {}

  /** Called when `link` stops being this unit's input (a WebSocket sends `stop` here). */
  protected inputDetached(_link: Link): void {}

  /** Called when a source asks to drop what it already sent and this unit still holds (barge-in). */
  protected inputCleared(_link: Link): void {}

  /** Starts sending this unit's audio to `target`. Replaces `target`'s current input, if any. */
  sendMediaTo(target: MediaUnit, options: SendMediaOptions = {}): void {
    const link = new Link(this, target, { ...options });
    target.#attach(link);
    this.#outputs.push(link);
  }

  /** Stops sending this unit's audio to `target`. A no-op when there is no such link. */
  stopMediaTo(target: MediaUnit): void {
    const link = this.#outputs.find((l) => l.target === target);
    if (link !== undefined) MediaUnit.unlink(link);
  }

  /** The current inbound link, if any. */
  get input(): Link | null {
    return this.#input;
  }

  /** The current outbound links (do not mutate). */
  get outputs(): readonly Link[] {
    return this.#outputs;
  }

  /** Sends one frame to every outbound link. */
  protected emitMedia(frame: Uint8Array, format: AudioFormat): void {
    const outputs = this.#outputs;
    for (let i = 0; i < outputs.length; i++) outputs[i]!.push(frame, format);
  }

  /** Sends one frame of stream `tag` to the links that asked for that tag (undefined = the untagged stream). */
  protected emitTaggedMedia(frame: Uint8Array, format: AudioFormat, tag: string | undefined): void {
    const outputs = this.#outputs;
    for (let i = 0; i < outputs.length; i++) {
      const link = outputs[i]!;
      if (link.options.tag === tag) link.push(frame, format);
    }
  }

  /** Asks every target fed by this unit (or only those of stream `tag`, when given) to drop what they hold. */
  protected clearOutputs(tag?: string): void {
    for (const link of this.#outputs) {
      if (tag === undefined || link.options.tag === tag) link.target.inputCleared(link);
    }
  }

  /** Removes every link into and out of this unit. Idempotent; units call it when they close. */
  protected detachAll(): void {
    if (this.#input !== null) MediaUnit.unlink(this.#input);
    while (this.#outputs.length > 0) MediaUnit.unlink(this.#outputs[this.#outputs.length - 1]!);
  }

  #attach(link: Link): void {
    const old = this.#input;
    if (old !== null) MediaUnit.unlink(old);
    this.#input = link;
    this.inputAttached(link);
  }

  private static unlink(link: Link): void {
    const source = link.source;
    const index = source.#outputs.indexOf(link);
    if (index >= 0) source.#outputs.splice(index, 1);
    const target = link.target;
    if (target.#input === link) {
      target.#input = null;
      target.inputDetached(link);
    }
    link.close();
  }
}

/** VoxEngine.sendMediaBetween: both directions. */
export function sendMediaBetween(a: MediaUnit, b: MediaUnit): void {
  a.sendMediaTo(b);
  b.sendMediaTo(a);
}

/** VoxEngine.stopMediaBetween: both directions. */
export function stopMediaBetween(a: MediaUnit, b: MediaUnit): void {
  a.stopMediaTo(b);
  b.stopMediaTo(a);
}

/**
 * A one-way route from a source unit to a target unit. The conversion is chosen once, from the first frame's
 * format (and again only if the source's format changes): passthrough when both ends agree, with no copy, else
 * decode → resample → encode with filter state kept across frames.
 */
export class Link {
  readonly source: MediaUnit;
  readonly target: MediaUnit;
  readonly options: Readonly<SendMediaOptions>;
  /** What the target receives; fixed for the link's life. */
  readonly targetFormat: AudioFormat;
  #sourceFormat: AudioFormat | null = null;
  #converter: Converter | null = null;
  #closed = false;
  /** Frames pushed into this link. */
  framesIn = 0;
  /** Frames delivered to the target. */
  framesOut = 0;

  constructor(source: MediaUnit, target: MediaUnit, options: SendMediaOptions) {
    this.source = source;
    this.target = target;
    this.options = Object.freeze(options);
    this.targetFormat = target.inputFormat(this.options);
  }

  /** True when frames reach the target as the very same buffer the source emitted. */
  get passthrough(): boolean {
    return this.#sourceFormat === this.targetFormat;
  }

  /** The converter in use, or null when passing through (or before the first frame). */
  get converter(): Converter | null {
    return this.#converter;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Carries one frame to the target, synchronously. */
  push(frame: Uint8Array, format: AudioFormat): void {
    if (this.#closed) return;
    this.framesIn++;
    if (format !== this.#sourceFormat) this.#choose(format);
    const converter = this.#converter;
    const out = converter === null ? frame : converter.convert(frame);
    if (out.length === 0) return;
    this.framesOut++;
    mediaStats.framesForwarded++;
    this.target.receiveMedia(out, this);
  }

  /** Releases the converter's state. Called by the units when the link is removed; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#converter?.destroy();
    this.#converter = null;
  }

  #choose(format: AudioFormat): void {
    this.#converter?.destroy();
    this.#sourceFormat = format;
    this.#converter = createConverter(format, this.targetFormat);
    if (this.#converter !== null) mediaStats.convertersCreated++;
  }
}
