/**
 * The local agent behind the emulators: recognition (pocketsphinx, where installed) → rule-based dialogue
 * (dialogue.json) → tool calls → synthesis (flite, in a worker), implementing the brain seam (brain.ts).
 *
 * Per turn:
 * - no user input and no tool results: the greeting the first time, the reprompt afterwards;
 * - tool results: each is spoken through its `toolResults` template (with the call's arguments, from history);
 * - a user turn: its text when the client typed or transcribed it; else its audio is recognised and reported as
 *   `user_transcript`. Where recognition is impossible (pocketsphinx missing, or a caller below 16 kHz, i.e.
 *   G.711) the agent runs in **echo mode**: it says `echoIntro` ("You said:") and plays the caller's audio back.
 * - a rule's tool call ends the answer; the emulator brings the result back as the next turn.
 *
 * Speech streams sentence by sentence (a text part, then that sentence's audio), so the first audio leaves
 * after one sentence's synthesis. Barge-in: when the emulator aborts `turn.signal`, synthesis stops (no further
 * parts) and a pending recognition is dropped; the emulator reports the cancellation on its protocol.
 *
 * Resources: one Tts (one worker thread) per brain, shared by its sessions; one recogniser process per session
 * at most, started on the first audio turn it can recognise and killed by `close()`.
 */
import { createLogger, type Logger } from '../log.js';
import type {
  Brain,
  BrainAudio,
  BrainPart,
  BrainSession,
  BrainSessionInfo,
  BrainToolResult,
  BrainTurn,
} from './brain.js';
import {
  type DialogueAction,
  type DialogueContext,
  type DialogueInput,
  type DialogueRules,
  decide,
  defaultDialogueRules,
} from './dialogue.js';
import {
  canRecognize,
  detectRecognizer,
  Recognizer,
  type RecognizerOptions,
  type RecognizerStatus,
} from './recognizer.js';
import { type FliteVoice, Tts } from './tts.js';

export interface LocalBrainOptions {
  /** A shared synthesiser (not closed by the brain). Default: the brain makes one and closes it in close(). */
  readonly tts?: Tts;
  /** Default `rms`. */
  readonly voice?: FliteVoice;
  /** Default: dialogue.json next to this file. */
  readonly rules?: DialogueRules;
  /** `off` forces echo mode. Default `auto`: recognise when pocketsphinx is installed and the caller is ≥ 16 kHz. */
  readonly recognition?: 'auto' | 'off';
  readonly recognizer?: RecognizerOptions;
  /**
   * What to do with callers below 16 kHz (G.711): `echo` (default) or `recognize` (upsampled to 16 kHz; far less
   * accurate, see docs/agent.md).
   */
  readonly narrowband?: 'echo' | 'recognize';
  /** For {time} and {date}; default the process's zone. */
  readonly timeZone?: string;
  /** Clock for {time} and {date} (tests). */
  readonly now?: () => Date;
  /** Longest caller audio echoed back, ms. Default 15000. */
  readonly maxEchoMs?: number;
  readonly log?: Logger;
}

export interface LocalBrain extends Brain {
  /** Whether recognition is possible on this machine, and why; for logs and /healthz. */
  readonly recognizer: RecognizerStatus;
  /** Sessions currently open. */
  readonly openSessions: number;
  openSession(info: BrainSessionInfo): LocalBrainSession;
  /** Starts the synthesis worker now, so the first answer does not pay its start-up (~0.2 s). */
  warmUp(): Promise<void>;
  /** Closes every session and, when the brain made it, the synthesiser. */
  close(): Promise<void>;
}

export interface LocalBrainSession extends BrainSession {
  /** `recognize` after the first audio turn that could be recognised, `echo` when it could not, else `idle`. */
  readonly mode: 'idle' | 'recognize' | 'echo';
  /** The recogniser's process group while one runs (tests check nothing survives close()). */
  readonly recognizerProcessGroup: number | undefined;
  /** Kills the recogniser; resolves when its processes are gone. */
  close(): Promise<void>;
}

interface Shared {
  readonly tts: Tts;
  readonly rules: DialogueRules;
  readonly status: RecognizerStatus;
  readonly options: LocalBrainOptions;
  readonly log: Logger;
}

export function localBrain(options: LocalBrainOptions = {}): LocalBrain {
  const log = options.log ?? createLogger({ component: 'local-agent' });
  const status: RecognizerStatus =
    options.recognition === 'off'
      ? { available: false, reason: 'recognition turned off' }
      : detectRecognizer();
  const ownsTts = options.tts === undefined;
  const tts = options.tts ?? new Tts(options.voice === undefined ? { log } : { voice: options.voice, log });
  const shared: Shared = { tts, rules: options.rules ?? defaultDialogueRules(), status, options, log };
  const sessions = new Set<Session>();
  log.info({ recognition: status.available, reason: status.reason }, 'local agent ready');
  return {
    name: 'local',
    recognizer: status,
    get openSessions() {
      return sessions.size;
    },
    openSession(info) {
      const session = new Session(shared, info, () => sessions.delete(session));
      sessions.add(session);
      return session;
    },
    warmUp: () => tts.warmUp(),
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
      if (ownsTts) await tts.close();
    },
  };
}

class Session implements LocalBrainSession {
  readonly #shared: Shared;
  readonly #log: Logger;
  readonly #onClose: () => void;
  #recognizer: Recognizer | null = null;
  #mode: 'idle' | 'recognize' | 'echo' = 'idle';
  #greeted = false;
  #previous: string | undefined;
  #closed: Promise<void> | null = null;

  constructor(shared: Shared, info: BrainSessionInfo, onClose: () => void) {
    this.#shared = shared;
    this.#log = shared.log.child({ sessionId: info.sessionId });
    this.#onClose = onClose;
  }

  get mode(): 'idle' | 'recognize' | 'echo' {
    return this.#mode;
  }

  get recognizerProcessGroup(): number | undefined {
    return this.#recognizer?.processGroup;
  }

  respond(turn: BrainTurn): AsyncIterable<BrainPart> {
    return this.#respond(turn);
  }

  async transcribe(audio: BrainAudio, signal: AbortSignal): Promise<string | null> {
    const recognizer = this.#recognizerFor(audio.sampleRate);
    if (recognizer === null) return null;
    return await recognizer.recognize(audio.pcm, audio.sampleRate, signal);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#onClose();
      await this.#recognizer?.close();
      this.#recognizer = null;
    })();
    return this.#closed;
  }

  async *#respond(turn: BrainTurn): AsyncGenerator<BrainPart> {
    if (turn.signal.aborted || this.#closed !== null) return;
    const speaker = new Speaker(this.#shared.tts, turn);
    for (const result of turn.toolResults) {
      yield* speaker.run(this.#decide(toolResultInput(result, turn), turn));
      if (turn.signal.aborted) return;
    }
    const user = turn.user;
    if (user === undefined) {
      if (turn.toolResults.length > 0) return;
      const input: DialogueInput = this.#greeted ? { kind: 'idle' } : { kind: 'start' };
      this.#greeted = true;
      yield* speaker.run(this.#decide(input, turn));
      return;
    }
    this.#greeted = true;
    let text = user.text;
    if (text === undefined && user.audio !== undefined) {
      const heard = await this.#hear(user.audio, turn.signal);
      if (turn.signal.aborted || this.#closed !== null) return;
      if (heard === undefined) {
        yield* speaker.echo(
          this.#shared.rules.echoIntro,
          user.audio,
          this.#shared.options.maxEchoMs ?? 15000,
        );
        return;
      }
      text = heard;
      if (text !== '') yield { type: 'user_transcript', text };
    }
    const input: DialogueInput =
      text === undefined || text.trim() === '' ? { kind: 'no_speech' } : { kind: 'heard', text };
    const actions = this.#decide(input, turn);
    if (text !== undefined && text.trim() !== '') this.#previous = text.trim();
    yield* speaker.run(actions);
  }

  /** The words in `audio`; '' when none; undefined when this turn must be echoed instead. */
  async #hear(audio: BrainAudio, signal: AbortSignal): Promise<string | undefined> {
    const recognizer = this.#recognizerFor(audio.sampleRate);
    if (recognizer === null) return undefined;
    try {
      const text = await recognizer.recognize(audio.pcm, audio.sampleRate, signal);
      this.#log.debug({ 'vg.pii.text': text }, 'caller turn recognised');
      return text ?? '';
    } catch (err) {
      this.#log.warn({ err }, 'recognition failed; echoing the turn');
      return undefined;
    }
  }

  #recognizerFor(sampleRate: number): Recognizer | null {
    const status = this.#shared.status;
    const minRate = this.#shared.options.narrowband === 'recognize' ? 8000 : undefined;
    const usable = status.available && canRecognize(sampleRate, minRate) && this.#closed === null;
    const mode = usable ? 'recognize' : 'echo';
    if (mode !== this.#mode) {
      const reason = !status.available
        ? status.reason
        : `caller audio is ${sampleRate} Hz; recognition needs 16 kHz`;
      this.#log.info(usable ? { mode } : { mode, reason }, 'local agent mode');
      this.#mode = mode;
    }
    if (!usable) return null;
    this.#recognizer ??= new Recognizer({
      ...this.#shared.options.recognizer,
      ...(minRate === undefined ? {} : { minSampleRate: minRate }),
      log: this.#log,
    });
    return this.#recognizer;
  }

  #decide(input: DialogueInput, turn: BrainTurn): DialogueAction[] {
    const options = this.#shared.options;
    const context: DialogueContext = {
      now: options.now?.() ?? new Date(),
      tools: turn.tools.map((t) => t.name),
      ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
      ...(this.#previous === undefined ? {} : { previous: this.#previous }),
    };
    return decide(input, context, this.#shared.rules);
  }
}

function toolResultInput(result: BrainToolResult, turn: BrainTurn): DialogueInput {
  const name = result.name ?? 'tool';
  const call = turn.history.find((e) => e.kind === 'tool_call' && e.callId === result.callId);
  let args: Record<string, unknown> | undefined;
  if (call?.kind === 'tool_call') {
    try {
      const parsed = JSON.parse(call.arguments) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        args = parsed as Record<string, unknown>;
    } catch {
      // arguments that are not JSON fill no placeholders
    }
  }
  return args === undefined
    ? { kind: 'tool_result', name, output: result.output }
    : { kind: 'tool_result', name, output: result.output, arguments: args };
}

/** Turns dialogue actions into brain parts: text and synthesised audio, sentence by sentence. */
class Speaker {
  readonly #tts: Tts;
  readonly #turn: BrainTurn;
  #spoken = false;

  constructor(tts: Tts, turn: BrainTurn) {
    this.#tts = tts;
    this.#turn = turn;
  }

  async *run(actions: readonly DialogueAction[]): AsyncGenerator<BrainPart> {
    for (const action of actions) {
      if (this.#turn.signal.aborted) return;
      if (action.type === 'say') yield* this.say(action.text);
      else if (action.type === 'tool_call')
        yield { type: 'tool_call', name: action.name, arguments: action.arguments };
      else yield { type: 'hangup', reason: action.reason };
    }
  }

  async *say(text: string): AsyncGenerator<BrainPart> {
    const { signal, output } = this.#turn;
    if (!output.audio) {
      yield { type: 'text', text: this.#sep(text) };
      return;
    }
    for await (const chunk of this.#tts.stream(text, { sampleRate: output.sampleRate, signal })) {
      yield { type: 'text', text: this.#sep(chunk.text) };
      if (signal.aborted) return;
      yield { type: 'audio', pcm: chunk.pcm, sampleRate: chunk.sampleRate };
    }
  }

  async *echo(intro: string, audio: BrainAudio, maxMs: number): AsyncGenerator<BrainPart> {
    yield* this.say(intro);
    if (this.#turn.signal.aborted || !this.#turn.output.audio) return;
    const max = Math.floor((audio.sampleRate * maxMs) / 1000);
    const pcm = audio.pcm.length > max ? audio.pcm.subarray(0, max) : audio.pcm;
    yield { type: 'audio', pcm, sampleRate: audio.sampleRate };
  }

  /** Text parts append, so sentences after the first get a separating space. */
  #sep(text: string): string {
    const out = this.#spoken ? ` ${text}` : text;
    this.#spoken = true;
    return out;
  }
}
