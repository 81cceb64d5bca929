/**
 * One agent utterance on the Ultravox join socket: the brain's answer (or a fixed text: a greeting, a forced
 * agent message, a farewell) run through the shared {@link BrainRun}, turned into Ultravox messages. Agent text
 * becomes `transcript` messages with one `ordinal` per utterance: `delta` chunks with `final: false`, then the
 * full `text` with `final: true`; audio leaves as binary s16le frames, paced by the session's client-buffer model.
 */
import type { BrainPart } from '../../agent/brain.js';
import type { AudioFormat } from '../../media/format.js';
import { sine } from '../../media/pcm.js';
import { BrainRun, type BrainRunOutcome, type Pacer, type ToolCallPart } from '../brainRun.js';
import type { MessageMedium } from './callConfig.js';
import type { ServerMessage } from './messages.js';

export interface UtteranceHost {
  send(message: ServerMessage): void;
  sendAudio(chunk: Uint8Array): void;
  /** The next transcript ordinal of the call. */
  nextOrdinal(): number;
  /** The call's output medium now. */
  medium(): MessageMedium;
  /** The utterance produced its first output. */
  speaking(): void;
  userTranscript(text: string): void;
  toolCall(part: ToolCallPart): void;
  hangup(): void;
}

export interface UtteranceOptions {
  readonly format: AudioFormat;
  readonly chunkMs: number;
  readonly pacer: Pacer;
  /** False: user speech does not cut it short (`uninterruptible`). */
  readonly interruptible: boolean;
}

export type UtteranceOutcome = BrainRunOutcome | 'failed';

export class AgentUtterance {
  readonly interruptible: boolean;
  readonly #host: UtteranceHost;
  readonly #run: BrainRun;
  #ordinal = -1;
  #medium: MessageMedium = 'voice';
  #text = '';
  /** Everything this utterance said, across transcripts (a tool call closes one and may start another). */
  #said = '';
  #spoke = false;

  constructor(host: UtteranceHost, options: UtteranceOptions) {
    this.#host = host;
    this.interruptible = options.interruptible;
    this.#run = new BrainRun(
      {
        format: options.format,
        chunkMs: options.chunkMs,
        pacer: options.pacer,
        wantsAudio: () => host.medium() === 'voice',
      },
      {
        text: (delta) => this.#onText(delta),
        audio: (chunk) => {
          if (host.medium() !== 'voice') return;
          this.#output();
          host.sendAudio(chunk);
        },
        toolCall: (part) => {
          this.closeTranscript();
          host.toolCall(part);
        },
        userTranscript: (text) => host.userTranscript(text),
        hangup: () => host.hangup(),
      },
    );
  }

  /** Aborted when the utterance is cut short; give it to the brain as `turn.signal`. */
  get signal(): AbortSignal {
    return this.#run.signal;
  }

  /** What the agent said so far. */
  get said(): string {
    return this.#said;
  }

  /** Plays `parts` to the end; the transcript is closed when it ends. */
  async play(parts: AsyncIterable<BrainPart>): Promise<UtteranceOutcome> {
    let outcome: UtteranceOutcome;
    try {
      outcome = await this.#run.run(parts);
    } catch {
      outcome = 'failed';
    }
    if (outcome !== 'aborted') this.closeTranscript();
    return outcome;
  }

  /** Stops generating at once (barge-in, hang-up, the call ended); the caller closes the transcript. */
  abort(): void {
    this.#run.abort();
  }

  /** Sends the final transcript of what was said so far, if anything was. Idempotent. */
  closeTranscript(): void {
    if (this.#ordinal < 0) return;
    this.#host.send({
      type: 'transcript',
      role: 'agent',
      medium: this.#medium,
      text: this.#text,
      final: true,
      ordinal: this.#ordinal,
    });
    this.#ordinal = -1;
    this.#text = '';
  }

  #onText(delta: string): void {
    this.#output();
    if (this.#ordinal < 0) {
      this.#ordinal = this.#host.nextOrdinal();
      this.#medium = this.#host.medium();
    }
    this.#text += delta;
    this.#said += delta;
    this.#host.send({
      type: 'transcript',
      role: 'agent',
      medium: this.#medium,
      delta,
      final: false,
      ordinal: this.#ordinal,
    });
  }

  #output(): void {
    if (this.#spoke) return;
    this.#spoke = true;
    this.#host.speaking();
  }
}

/** Placeholder speech length per character of text, ms, and its bounds. */
const MS_PER_CHAR = 60;
const MIN_SPEECH_MS = 300;
const MAX_SPEECH_MS = 8000;

/**
 * A fixed text as brain parts: its words, then placeholder audio (a soft 330 Hz tone, about 60 ms a character)
 * at `sampleRate`. The brain seam has no "say this" call, so fixed texts are not synthesised.
 */
export async function* spokenText(text: string, sampleRate: number): AsyncGenerator<BrainPart> {
  if (text === '') return;
  for (const word of text.split(/(?<=\s)/)) yield { type: 'text', text: word };
  const ms = Math.min(MAX_SPEECH_MS, Math.max(MIN_SPEECH_MS, text.length * MS_PER_CHAR));
  yield { type: 'audio', pcm: sine(330, sampleRate, ms, 0.2), sampleRate };
}
