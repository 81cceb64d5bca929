/**
 * The conversation of one Ultravox call: who speaks when (spec/ultravox.md §9.8-16). One agent utterance plays at
 * a time; others wait in a queue ("soon"). User speech while the agent is audible is a barge-in unless the
 * utterance is uninterruptible. Tool calls freeze the conversation until every result is back. A hang-up (the
 * client's, the brain's, a `hang-up` tool result, the duration limit) plays what it has to say, waits for the
 * client's buffer to drain, then ends the call.
 */
import {
  audioMs,
  type BrainAudio,
  type BrainHistoryEntry,
  type BrainPart,
  type BrainSession,
  type BrainToolResult,
  type BrainTurn,
} from '../../agent/brain.js';
import type { Logger } from '../../log.js';
import { type AudioFormat, audioFormat } from '../../media/format.js';
import { ClientBufferPacer, type ToolCallPart } from '../brainRun.js';
import { AgentUtterance, spokenText, type UtteranceHost, type UtteranceOutcome } from './agentTurn.js';
import type { CallConfig, MessageMedium, SocketMedium } from './callConfig.js';
import type { EndReason } from './calls.js';
import type { AgentState, ForcedAgentMessage, ServerMessage, ToolResultMessage } from './messages.js';
import { CallTools, historyEntry } from './tools.js';

export interface ConversationHost {
  send(message: ServerMessage): void;
  sendAudio(chunk: Uint8Array): void;
  /** Something the client may want to know while debugging (sent when `debug` messages are on). */
  debug(message: string): void;
  /** Ends the call now. */
  end(reason: EndReason): void;
}

export interface ConversationOptions {
  readonly config: CallConfig;
  readonly socket: SocketMedium;
  readonly brain: BrainSession;
  /** The call state tools update (`updateCallState`). */
  readonly callState: Record<string, unknown>;
  readonly newId: () => string;
  readonly chunkMs: number;
  readonly log: Logger;
}

type User = NonNullable<BrainTurn['user']>;

/** Time after the modelled playout ends before a hang-up closes the socket. */
const HANGUP_GRACE_MS = 150;

export class Conversation {
  readonly #host: ConversationHost;
  readonly #o: ConversationOptions;
  readonly #format: AudioFormat;
  readonly #pacer: ClientBufferPacer;
  readonly #history: BrainHistoryEntry[] = [];
  readonly #tools: CallTools;
  /** Utterances waiting for the agent to be free. */
  readonly #queue: (() => void)[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: AgentState = 'idle';
  #medium: MessageMedium;
  #ordinal = 0;
  #utterance: AgentUtterance | null = null;
  /** Whether audio still playing at the client (of an utterance that ended) may be cut short. */
  #playingInterruptible = true;
  /** User input that arrived while tools ran: answered together with their results. */
  #heldUser: User | null = null;
  #heard = false;
  /** Set once the call is to end: what is queued plays, then the call ends with this reason. */
  #ending: EndReason | null = null;
  #closed = false;

  constructor(host: ConversationHost, options: ConversationOptions) {
    this.#host = host;
    this.#o = options;
    this.#format = audioFormat('pcm16', options.socket.outputSampleRate);
    this.#pacer = new ClientBufferPacer(options.socket.clientBufferSizeMs);
    this.#medium = options.config.initialOutputMedium;
    this.#tools = new CallTools(options.config, options.socket, this.#history, options.newId);
    for (const m of options.config.initialMessages) this.#history.push(historyEntry(m, options.newId()));
  }

  get state(): AgentState {
    return this.#state;
  }

  /** Sends the first state and lets the first speaker speak. */
  start(): void {
    this.#host.send({ type: 'state', state: 'idle' });
    const first = this.#o.config.firstSpeaker;
    if (first.kind === 'agent') {
      const interruptible = !first.uninterruptible;
      this.#after(first.delayMs, () =>
        first.text === null
          ? this.#respond(undefined, [], interruptible)
          : this.#say(first.text, interruptible),
      );
      return;
    }
    this.#setState('listening');
    const fallback = first.fallback;
    if (fallback === null) return;
    this.#after(fallback.delayMs, () => {
      if (this.#heard || this.#utterance !== null) return;
      if (fallback.text === null) this.#respond();
      else this.#say(fallback.text, true);
    });
  }

  /** The user started speaking: a barge-in if the agent is audible and may be interrupted. */
  userStarted(): void {
    this.#heard = true;
    this.#interrupt();
  }

  #interrupt(): void {
    if (this.#ending !== null || this.#closed) return;
    const u = this.#utterance;
    if (u !== null) {
      if (u.interruptible) this.#bargeIn(u);
    } else if (this.#pacer.queuedMs > 0 && this.#playingInterruptible) {
      this.#bargeIn(null);
    }
  }

  /** The user finished speaking. */
  userTurn(audio: BrainAudio): void {
    if (this.#ending !== null || this.#closed) return;
    const user: User = { itemId: this.#o.newId(), audio };
    this.#history.push({ kind: 'message', id: user.itemId, role: 'user', text: '', audioMs: audioMs(audio) });
    this.#answerUser(user);
  }

  /** `user_text_message` / `input_text_message`. */
  userText(text: string, urgency: 'immediate' | 'soon' | 'later'): void {
    if (this.#ending !== null || this.#closed) return;
    this.#heard = true;
    const user: User = { itemId: this.#o.newId(), text };
    this.#history.push({ kind: 'message', id: user.itemId, role: 'user', text });
    this.#host.send({
      type: 'transcript',
      role: 'user',
      medium: 'text',
      text,
      final: true,
      ordinal: this.#ordinal++,
    });
    if (urgency === 'later') return;
    if (urgency === 'immediate') this.#interrupt();
    this.#answerUser(user);
  }

  setMedium(medium: MessageMedium): void {
    this.#medium = medium;
  }

  forced(message: ForcedAgentMessage): void {
    if (this.#ending !== null || this.#closed) return;
    if (message.urgency === 'immediate') this.#interrupt();
    const calls = this.#tools.forcedCalls(message);
    const rate = this.#format.sampleRate;
    this.#speak(!(message.uninterruptible ?? false), () => forcedParts(message.content ?? '', calls, rate));
  }

  /** A client or data-connection tool result; returns a problem to report, or null. */
  toolResult(message: ToolResultMessage): string | null {
    const settled = this.#tools.settle(message, this.#o.callState);
    if (settled.kind === 'problem') return settled.problem;
    if (this.#ending !== null || this.#closed || settled.kind === 'waiting') return null;
    if (settled.kind === 'hang-up') {
      this.hangUp('');
      return null;
    }
    const user = this.#heldUser;
    this.#heldUser = null;
    if (settled.reaction === 'listens' && user === null) {
      if (this.#utterance === null) this.#next();
      return null;
    }
    this.#respond(user ?? undefined, settled.results);
    return null;
  }

  /** Ends the call after `message` (if any) is said, behind what is already playing. */
  hangUp(message: string, reason: EndReason = 'agent_hangup'): void {
    if (this.#ending !== null || this.#closed) return;
    this.#queue.length = 0;
    if (message !== '') this.#say(message, false);
    this.#ending = reason;
    if (this.#utterance === null) this.#next();
  }

  /** Cuts the agent short and ends the call after `message` (the duration limit). */
  endNow(reason: EndReason, message: string | null): void {
    if (this.#ending !== null || this.#closed) return;
    const u = this.#utterance;
    if (u !== null || this.#pacer.queuedMs > 0) this.#bargeIn(u);
    this.hangUp(message ?? '', reason);
  }

  /** The call is over: stop everything. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#utterance?.abort();
    this.#utterance = null;
    this.#queue.length = 0;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  // ---------------------------------------------------------------------------------------------------------

  #answerUser(user: User): void {
    if (this.#tools.pending > 0) this.#heldUser = user;
    else this.#respond(user);
  }

  #respond(user?: User, toolResults: BrainToolResult[] = [], interruptible = true): void {
    const turn: Omit<BrainTurn, 'signal'> = {
      ...(user === undefined ? {} : { user }),
      toolResults,
      history: this.#history.slice(),
      tools: this.#tools.offered,
      instructions: this.#o.config.systemPrompt,
      output: { audio: this.#medium === 'voice', sampleRate: this.#format.sampleRate },
    };
    this.#speak(interruptible, (signal) => this.#o.brain.respond({ ...turn, signal }), user?.itemId);
  }

  #say(text: string, interruptible: boolean): void {
    const rate = this.#format.sampleRate;
    this.#speak(interruptible, () => spokenText(text, rate));
  }

  /** Plays an utterance now, or after the current one. */
  #speak(
    interruptible: boolean,
    parts: (signal: AbortSignal) => AsyncIterable<BrainPart>,
    userItemId?: string,
  ): void {
    if (this.#closed) return;
    if (this.#utterance !== null) {
      this.#queue.push(() => this.#speak(interruptible, parts, userItemId));
      return;
    }
    const u = new AgentUtterance(this.#utteranceHost(userItemId), {
      format: this.#format,
      chunkMs: this.#o.chunkMs,
      pacer: this.#pacer,
      interruptible,
    });
    this.#utterance = u;
    this.#setState('thinking');
    u.play(lazily(parts, u.signal)).then(
      (outcome) => this.#played(u, outcome),
      (err: unknown) => this.#o.log.error({ err }, 'utterance failed'),
    );
  }

  #played(u: AgentUtterance, outcome: UtteranceOutcome): void {
    if (this.#utterance !== u) return; // cut short: the barge-in dealt with it
    this.#utterance = null;
    this.#playingInterruptible = u.interruptible;
    if (outcome === 'failed') {
      this.#o.log.warn({}, 'brain failed');
      this.#host.debug('the agent could not answer');
    }
    this.#agentSaid(u);
    this.#next();
  }

  /** The agent is free: the next queued utterance, else the hang-up, else wait for tools, else listen. */
  #next(): void {
    if (this.#closed) return;
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else if (this.#ending !== null) this.#endAfterPlayout(this.#ending);
    else if (this.#tools.pending > 0) this.#setState('thinking');
    else this.#setState('listening');
  }

  #bargeIn(u: AgentUtterance | null): void {
    if (u !== null) {
      this.#utterance = null;
      u.abort();
    }
    this.#pacer.clear();
    this.#host.send({ type: 'playback_clear_buffer' });
    if (u !== null) {
      u.closeTranscript();
      this.#agentSaid(u);
    }
    this.#setState('listening');
  }

  #endAfterPlayout(reason: EndReason): void {
    this.#after(this.#pacer.queuedMs + HANGUP_GRACE_MS, () => this.#host.end(reason));
  }

  #utteranceHost(userItemId: string | undefined): UtteranceHost {
    return {
      send: (m) => this.#host.send(m),
      sendAudio: (chunk) => this.#host.sendAudio(chunk),
      nextOrdinal: () => this.#ordinal++,
      medium: () => this.#medium,
      speaking: () => this.#setState('speaking'),
      userTranscript: (text) => this.#userTranscript(userItemId, text),
      toolCall: (part) => this.#invoke(part),
      hangup: () => {
        this.#queue.length = 0;
        this.#ending ??= 'agent_hangup';
      },
    };
  }

  #userTranscript(itemId: string | undefined, text: string): void {
    const i = this.#history.findIndex((e) => e.id === itemId && e.kind === 'message');
    const entry = this.#history[i];
    if (entry === undefined || entry.kind !== 'message' || entry.text !== '') return;
    this.#history[i] = { ...entry, text };
    this.#host.send({
      type: 'transcript',
      role: 'user',
      medium: 'voice',
      text,
      final: true,
      ordinal: this.#ordinal++,
    });
  }

  #invoke(part: ToolCallPart): void {
    const invocation = this.#tools.invoke(part);
    if (invocation !== null) {
      this.#host.send(invocation);
      return;
    }
    this.#o.log.warn({ tool: part.name }, 'agent called a tool the call does not offer; dropped');
    this.#host.debug(`tool '${part.name}' is not offered to this call; the invocation was dropped`);
  }

  #agentSaid(u: AgentUtterance): void {
    if (u.said !== '')
      this.#history.push({ kind: 'message', id: this.#o.newId(), role: 'assistant', text: u.said });
  }

  #setState(state: AgentState): void {
    if (this.#state === state || this.#closed) return;
    this.#state = state;
    this.#host.send({ type: 'state', state });
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }
}

/** The brain's parts, obtained inside the stream so that a throwing `respond` fails the utterance. */
async function* lazily(
  parts: (signal: AbortSignal) => AsyncIterable<BrainPart>,
  signal: AbortSignal,
): AsyncGenerator<BrainPart> {
  yield* parts(signal);
}

async function* forcedParts(
  content: string,
  calls: readonly ToolCallPart[],
  rate: number,
): AsyncGenerator<BrainPart> {
  yield* spokenText(content, rate);
  yield* calls;
}
