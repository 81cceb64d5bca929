/**
 * The two media directions of a VoxEngine WebSocket.
 *
 * Inbound (peer → scenario units): one stream per tag, each a PacedStream, so a peer may send faster than real
 * time and is still heard in real time, from a buffer capped at `maxBufferedMs` (excess dropped and counted).
 * A stream "starts" on its first played frame and "ends" after `mediaEndAfterMs` without audio, after a `stop`
 * drains, or when cleared while playing.
 *
 * Outbound (a unit → peer): `start`, then one `media` per 20 ms frame (chunk +1, timestamp += samples), then
 * `stop` with `mediaInfo` when the link goes away.
 */
import { ErrorCodes, ProtocolError } from '../errors.js';
import { PacedStream } from '../graph/paced.js';
import type { AudioFormat } from '../media/format.js';
import { bytesPerSample } from '../media/format.js';
import { Framer } from '../media/framer.js';
import type {
  VoxMediaChunk,
  VoxMediaStart,
  VoxMediaStop,
  WireEncoding,
} from '../transports/voxengineMedia.js';
import { encodeMedia, encodeStart, encodeStop } from '../transports/voxengineMedia.js';
import type { ScenarioLimits } from './context.js';

/** One inbound stream, as the WebSocket reports it in MEDIA_STARTED / MEDIA_ENDED. */
export interface InboundStreamInfo {
  readonly tag: string | undefined;
  readonly encoding: WireEncoding;
  readonly customParameters: Record<string, string> | undefined;
}

/** What the inbound side needs from its WebSocket. */
export interface InboundHost {
  readonly limits: Readonly<ScenarioLimits>;
  /** A 20 ms frame of stream `tag`, due now; `untagged` also sends it to untagged routes. */
  playFrame(frame: Uint8Array, format: AudioFormat, tag: string | undefined, untagged: boolean): void;
  mediaStarted(stream: InboundStreamInfo): void;
  mediaEnded(stream: InboundStreamInfo, durationMs: number): void;
  problem(error: ProtocolError): void;
}

class InboundStream implements InboundStreamInfo {
  tag: string | undefined;
  encoding: WireEncoding;
  customParameters: Record<string, string> | undefined;
  readonly format: AudioFormat;
  readonly paced: PacedStream;
  /** `stop` received: more media needs a new `start`. */
  stopped = false;
  overflowReported = false;
  playedAtStart = 0;

  constructor(start: VoxMediaStart, owner: InboundStreams, host: InboundHost) {
    this.tag = start.tag;
    this.encoding = start.encoding;
    this.customParameters = start.customParameters;
    this.format = start.format;
    const sink = (frame: Uint8Array): void => owner.play(this, frame);
    const limits = host.limits;
    this.paced = new PacedStream(
      start.format,
      sink,
      {
        leadFrames: limits.leadFrames,
        maxBufferedMs: limits.maxBufferedMs,
        endAfterMs: limits.mediaEndAfterMs,
      },
      {
        onStart: () => {
          this.playedAtStart = this.paced.buffer.playedSamples;
          host.mediaStarted(this);
        },
        onEnd: () => owner.ended(this),
      },
    );
  }
}

export class InboundStreams {
  readonly #host: InboundHost;
  /** Keyed by tag; '' is the untagged stream. */
  readonly #streams = new Map<string, InboundStream>();
  /** The stream that untagged routes hear: the untagged stream, else the first tagged stream still open. */
  #untaggedOwner: InboundStream | null = null;

  constructor(host: InboundHost) {
    this.#host = host;
  }

  start(start: VoxMediaStart): void {
    const key = start.tag ?? '';
    const old = this.#streams.get(key);
    if (old !== undefined && old.format === start.format) {
      // Same format: keep the buffer, so audio queued before a stop/start pair still plays first.
      old.stopped = false;
      old.encoding = start.encoding;
      old.customParameters = start.customParameters;
      return;
    }
    if (old !== undefined) this.#remove(old, true);
    const stream = new InboundStream(start, this, this.#host);
    this.#streams.set(key, stream);
    if (this.#untaggedOwner === null || stream.tag === undefined) this.#untaggedOwner = stream;
  }

  media(media: VoxMediaChunk): void {
    const stream = this.#streams.get(media.tag ?? '');
    if (stream === undefined || stream.stopped) {
      this.#host.problem(
        new ProtocolError(
          ErrorCodes.MEDIA_BEFORE_START,
          'media for a stream with no start (or after its stop)',
          {
            details: { tag: media.tag ?? null },
          },
        ),
      );
      return;
    }
    const buffer = stream.paced.buffer;
    const dropped = buffer.droppedFrames;
    stream.paced.push(media.payload, true);
    if (buffer.droppedFrames !== dropped && !stream.overflowReported) {
      stream.overflowReported = true;
      this.#host.problem(
        new ProtocolError(
          ErrorCodes.AUDIO_BUFFER_FULL,
          'peer sent more audio than the playout buffer holds; excess dropped',
          {
            details: { tag: media.tag ?? null, maxBufferedMs: buffer.maxBufferedMs },
          },
        ),
      );
    }
  }

  stop(stop: VoxMediaStop): void {
    const stream = this.#streams.get(stop.tag ?? '');
    if (stream === undefined || stream.stopped) return;
    stream.stopped = true;
    stream.paced.end();
    if (stream.paced.buffer.idle) this.#remove(stream, false);
  }

  /** Drops what is buffered (all streams, or the one of `tag`); a playing stream reports its end. */
  clear(tag: string | undefined): void {
    for (const stream of this.#streams.values()) {
      if (tag === undefined || stream.tag === tag) stream.paced.clear();
    }
  }

  /** The socket closed: what is buffered still plays, then each stream ends. */
  endAll(): void {
    for (const stream of [...this.#streams.values()])
      this.stop({ tag: stream.tag, bytesSent: undefined, duration: undefined });
  }

  /** The session ends: drop everything and leave the clock at once. */
  closeAll(): void {
    for (const stream of [...this.#streams.values()]) this.#remove(stream, false);
  }

  /** Frames played and dropped so far, over every stream still open (for tests and stats). */
  get droppedFrames(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.paced.buffer.droppedFrames;
    return n;
  }

  /** @internal Called by a stream's PacedStream with each frame due now. */
  play(stream: InboundStream, frame: Uint8Array): void {
    this.#host.playFrame(
      frame,
      stream.format,
      stream.tag,
      stream.tag !== undefined && this.#untaggedOwner === stream,
    );
  }

  /** @internal Called by a stream's playout buffer when the stream stops playing. */
  ended(stream: InboundStream): void {
    const samples = stream.paced.buffer.playedSamples - stream.playedAtStart;
    this.#host.mediaEnded(stream, Math.round((samples * 1000) / stream.format.sampleRate));
    if (stream.stopped) this.#remove(stream, false);
  }

  #remove(stream: InboundStream, flush: boolean): void {
    const key = stream.tag ?? '';
    if (this.#streams.get(key) !== stream) {
      stream.paced.close();
      return;
    }
    this.#streams.delete(key);
    // clear() reports the end of a playing stream; close() then takes it off the clock.
    if (flush) stream.paced.clear();
    stream.paced.close();
    if (this.#untaggedOwner === stream) {
      const streams = [...this.#streams.values()];
      this.#untaggedOwner = streams.find((s) => s.tag === undefined) ?? streams[0] ?? null;
    }
  }
}

/** What the outbound side needs from its WebSocket. */
export interface WireSink {
  nextSequenceNumber(): number;
  sendText(text: string): void;
}

/** One outbound stream: from the link that feeds the socket. Sends `start` when created. */
export class OutboundStream {
  readonly #sink: WireSink;
  readonly #tag: string | undefined;
  readonly #framer: Framer;
  readonly #bytesPerSample: number;
  readonly #rate: number;
  #chunk = 0;
  #timestamp = 0;
  #bytesSent = 0;
  #stopped = false;
  readonly #emit = (frame: Uint8Array): void => {
    const sink = this.#sink;
    sink.sendText(encodeMedia(sink.nextSequenceNumber(), this.#tag, this.#chunk, this.#timestamp, frame));
    this.#chunk++;
    this.#timestamp += frame.length / this.#bytesPerSample;
    this.#bytesSent += frame.length;
  };

  constructor(
    sink: WireSink,
    tag: string | undefined,
    encoding: WireEncoding,
    format: AudioFormat,
    customParameters: Record<string, string> | undefined,
  ) {
    this.#sink = sink;
    this.#tag = tag;
    this.#framer = new Framer(format);
    this.#bytesPerSample = bytesPerSample(format.encoding);
    this.#rate = format.sampleRate;
    sink.sendText(encodeStart(sink.nextSequenceNumber(), tag, encoding, customParameters));
  }

  push(frame: Uint8Array): void {
    if (!this.#stopped) this.#framer.push(frame, this.#emit);
  }

  /** The source cleared: drop the partial frame held back. */
  clear(): void {
    this.#framer.reset();
  }

  /** Sends `stop` (unless `silent`: the socket is gone). Idempotent. */
  stop(silent = false): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#framer.reset();
    if (silent) return;
    const durationMs = Math.round((this.#timestamp * 1000) / this.#rate);
    this.#sink.sendText(encodeStop(this.#sink.nextSequenceNumber(), this.#tag, this.#bytesSent, durationMs));
  }
}
