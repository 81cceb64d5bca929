/**
 * The brain seam: what answers a user turn, behind every emulated AI provider (OpenAI Realtime now, Ultravox
 * later) and, later, the local agent (recognition + rule-based dialogue + synthesis + tools).
 *
 * The emulator owns the wire protocol, turn detection, audio formats and pacing. It opens one {@link BrainSession}
 * per emulated session and, whenever the protocol says "respond now", hands it a {@link BrainTurn}: the committed
 * user turn (PCM16 audio at a stated rate and/or text), the conversation so far, the tools on offer and the tool
 * results since the last answer. The brain answers with a stream of {@link BrainPart}s. The stream is cancellable:
 * on barge-in or a client cancel the emulator aborts `turn.signal` and stops reading; a brain should stop work
 * promptly and may simply return.
 *
 * This file is a leaf of types (plus one helper); brains live in their own files.
 *
 * @example
 * ```ts
 * const echo: Brain = {
 *   name: 'echo',
 *   openSession: () => ({
 *     async *respond(turn) {
 *       if (turn.user?.text === undefined) return;
 *       yield { type: 'text', text: `You said: ${turn.user.text}` };
 *       yield { type: 'audio', pcm: sine(440, turn.output.sampleRate, 500), sampleRate: turn.output.sampleRate };
 *     },
 *     close() {},
 *   }),
 * };
 * ```
 */

/** Mono PCM16 audio at a stated rate. */
export interface BrainAudio {
  readonly pcm: Int16Array;
  readonly sampleRate: number;
}

/** A function the caller's side offers (OpenAI `session.tools`, Ultravox `selectedTools`). */
export interface BrainTool {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object, as the client sent it. */
  readonly parameters?: unknown;
}

/** One entry of the conversation as the brain sees it, oldest first. Audio is summarised, not repeated. */
export type BrainHistoryEntry =
  | {
      readonly kind: 'message';
      readonly id: string;
      readonly role: 'user' | 'assistant' | 'system';
      /** Text, or the transcript of the audio when one is known; '' when neither is. */
      readonly text: string;
      /** Duration of the message's audio, when it had some. */
      readonly audioMs?: number;
    }
  | {
      readonly kind: 'tool_call';
      readonly id: string;
      readonly callId: string;
      readonly name: string;
      readonly arguments: string;
    }
  | { readonly kind: 'tool_result'; readonly id: string; readonly callId: string; readonly output: string };

/** The output of a tool the brain called earlier, returned by the client. */
export interface BrainToolResult {
  readonly callId: string;
  /** The tool's name, when the call is still in the conversation. */
  readonly name: string | undefined;
  readonly output: string;
}

/** What the brain is asked to answer. */
export interface BrainTurn {
  /** The newest user message since the last answer, when there is one. */
  readonly user?: {
    readonly itemId: string;
    /** Typed text, or the transcript of the audio when the client supplied one. */
    readonly text?: string;
    /** The committed audio, decoded to PCM16 at the input's native rate (24 kHz PCM, 8 kHz G.711). */
    readonly audio?: BrainAudio;
  };
  /** Tool outputs added since the last answer, oldest first. A turn may carry only these. */
  readonly toolResults: readonly BrainToolResult[];
  /** The whole conversation, oldest first, including `user` and `toolResults`. */
  readonly history: readonly BrainHistoryEntry[];
  /** The tools the brain may call in this turn (empty when `tool_choice` is `none`). */
  readonly tools: readonly BrainTool[];
  /** The system instructions in force for this turn. */
  readonly instructions: string;
  readonly output: {
    /** Whether the client wants audio; when false, audio parts are ignored and only text is sent. */
    readonly audio: boolean;
    /** The rate the emulator would like audio at; any other supported rate is resampled. */
    readonly sampleRate: number;
  };
  /** Aborted on barge-in, client cancel or session close. */
  readonly signal: AbortSignal;
}

/** One piece of an answer. Parts of the same kind append (text deltas, audio chunks). */
export type BrainPart =
  /** What the user said in `turn.user.audio` (speech recognition). At most one per turn. */
  | { readonly type: 'user_transcript'; readonly text: string }
  /** Response text: the transcript of the spoken answer, or the answer itself in text-only sessions. */
  | { readonly type: 'text'; readonly text: string }
  /** Response audio, PCM16 mono at `sampleRate` (the emulator converts to the session's format). */
  | { readonly type: 'audio'; readonly pcm: Int16Array; readonly sampleRate: number }
  /** Call a tool from `turn.tools`. The answer normally ends here; the result comes back in the next turn. */
  | {
      readonly type: 'tool_call';
      readonly name: string;
      readonly arguments: Readonly<Record<string, unknown>> | string;
      /** Defaults to a fresh `call_…` id. */
      readonly callId?: string;
    }
  /**
   * End the call after this answer (Ultravox hangs up; OpenAI Realtime, which has no end-of-call event, calls the
   * session's `end_call` tool when it offers one, else drops it).
   */
  | { readonly type: 'hangup'; readonly reason?: string };

/** One emulated session's brain, with whatever per-call state it needs. */
export interface BrainSession {
  /** Answer a turn. The emulator reads parts until the iterator ends or `turn.signal` aborts. */
  respond(turn: BrainTurn): AsyncIterable<BrainPart>;
  /**
   * Transcribe a committed user turn that gets no answer (e.g. server VAD with `create_response: false`).
   * Optional; when missing, such turns get no transcript.
   */
  transcribe?(audio: BrainAudio, signal: AbortSignal): Promise<string | null>;
  /** The session ended; free resources. Called once. */
  close(): void;
}

/** A kind of brain; opens one {@link BrainSession} per emulated session. */
export interface Brain {
  readonly name: string;
  openSession(info: BrainSessionInfo): BrainSession;
}

export interface BrainSessionInfo {
  /** The emulated session's id (`sess_…`), for logs. */
  readonly sessionId: string;
}

/** Duration of `audio` in ms. */
export function audioMs(audio: BrainAudio): number {
  return (audio.pcm.length * 1000) / audio.sampleRate;
}
