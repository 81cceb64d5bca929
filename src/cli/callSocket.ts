/**
 * The call socket of `voxgate call`: one call on Vapi's WebSocket transport, driven like a phone line (see
 * CallSocket), recording what comes back.
 */
import WebSocket from 'ws';
import { type AudioFormat, bytesPerSample, pcm16View, ulawDecode } from '../media/index.js';

/** What CallSocket needs of the command's options. */
export interface CallSocketOptions {
  key: string | undefined;
  graceMs: number;
  greetingWaitMs: number;
}

export const FRAME_MS = 20;

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export interface CallResult {
  audio: Buffer[];
  endedReason: string;
}

/** Longest wait for the agent's greeting to end before talking anyway. */
const GREETING_MAX_MS = 30_000;
/** Longest wait, after the input, for the agent to finish (a reply that never ends). */
const REPLY_MAX_MS = 60_000;
/** A received frame whose peak is above this (of 32767) is the agent talking. */
const VOICE_PEAK = 300;

type Phase = 'waiting' | 'greeting' | 'talking' | 'after';

/**
 * One call on its socket. Once the call is answered (`status-update: in-progress`; a server that never says so
 * gets the audio a second after the socket opens) it sends a frame every 20 ms, like a phone line: silence while
 * the agent greets (`--greeting-wait`), the input in real time, then silence until it hangs up. It hangs up when
 * the input is done, no reply is pending (the server said the user stopped and the assistant has not started
 * since), the assistant is not speaking and nothing audible came for the grace time. It records what comes back.
 * Ctrl+C hangs up early.
 */
export class CallSocket {
  readonly done: Promise<CallResult>;
  readonly #ws: WebSocket;
  readonly #frames: Uint8Array[];
  readonly #silence: Uint8Array;
  readonly #decode: (frame: Uint8Array) => Int16Array;
  readonly #o: CallSocketOptions;
  readonly #audio: Buffer[] = [];
  #endedReason: string | undefined;
  #timer: NodeJS.Timeout | null = null;
  #phase: Phase | null = null;
  #t0 = 0;
  /** Line frames sent since the start (input or silence). */
  #sent = 0;
  /** Input frames sent. */
  #next = 0;
  #phaseAt = 0;
  #assistantSpeaking = false;
  #replyPending = false;
  #lastVoiceAt = 0;

  constructor(url: string, frames: Uint8Array[], format: AudioFormat, o: CallSocketOptions) {
    this.#frames = frames;
    this.#o = o;
    const bytes = (format.sampleRate * FRAME_MS * bytesPerSample(format.encoding)) / 1000;
    this.#silence = new Uint8Array(bytes).fill(format.encoding === 'ulaw' ? 0xff : 0);
    this.#decode =
      format.encoding === 'ulaw'
        ? (f) => ulawDecode(f)
        : (f) => pcm16View(f.length % 2 === 0 ? f : f.subarray(0, f.length - 1));
    this.#ws = new WebSocket(
      url,
      o.key === undefined ? {} : { headers: { authorization: `Bearer ${o.key}` } },
    );
    this.#ws.on('open', () => this.#schedule(this.#start, 1000));
    this.#ws.on('message', this.#onMessage);
    process.on('SIGINT', this.#onSigint);
    this.done = new Promise<CallResult>((resolve, reject) => {
      this.#ws.on('close', (code, reason) => {
        this.#cleanUp();
        const why = this.#endedReason ?? (reason.toString() || `socket closed (${code})`);
        resolve({ audio: this.#audio, endedReason: why });
      });
      this.#ws.on('error', (err) => {
        this.#cleanUp();
        this.#ws.terminate();
        reject(new Error(`the call socket failed: ${err.message}`));
      });
    });
  }

  #start = (): void => {
    if (this.#phase !== null) return;
    this.#t0 = performance.now();
    this.#setPhase(this.#o.greetingWaitMs > 0 ? 'waiting' : 'talking');
    this.#pump();
  };

  #setPhase(phase: Phase): void {
    this.#phase = phase;
    this.#phaseAt = performance.now();
  }

  /** Sends every frame that is due by now (input or silence), then sleeps until the next one. */
  #pump = (): void => {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    const due = Math.floor((performance.now() - this.#t0) / FRAME_MS) + 1;
    while (this.#sent < due) {
      this.#advance();
      if (this.#phase === null) return; // hung up
      const talking = this.#phase === 'talking';
      ws.send(talking ? this.#frames[this.#next++]! : this.#silence);
      this.#sent++;
      if (talking && this.#next >= this.#frames.length) this.#setPhase('after');
    }
    this.#schedule(this.#pump, this.#t0 + this.#sent * FRAME_MS - performance.now());
  };

  /** Moves on when it is time: greeting heard → talk; input done and the agent done → hang up. */
  #advance(): void {
    const now = performance.now();
    const inPhase = now - this.#phaseAt;
    switch (this.#phase) {
      case 'waiting':
        if (this.#assistantSpeaking) this.#setPhase('greeting');
        else if (inPhase >= this.#o.greetingWaitMs) this.#setPhase('talking');
        break;
      case 'greeting':
        if (!this.#assistantSpeaking || inPhase >= GREETING_MAX_MS) this.#setPhase('talking');
        break;
      case 'after': {
        const quiet =
          !this.#replyPending && !this.#assistantSpeaking && now - this.#lastVoiceAt >= this.#o.graceMs;
        if ((inPhase >= this.#o.graceMs && quiet) || inPhase >= REPLY_MAX_MS) this.#hangUp();
        break;
      }
      default:
    }
    if (this.#phase === 'talking' && this.#frames.length === 0) this.#setPhase('after');
  }

  #hangUp = (): void => {
    this.#phase = null;
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify({ type: 'end-call' }));
    this.#ws.close(1000);
  };

  #onMessage = (data: Buffer, isBinary: boolean): void => {
    if (isBinary) {
      const frame = Buffer.from(data);
      this.#audio.push(frame);
      if (peak(this.#decode(frame)) > VOICE_PEAK) this.#lastVoiceAt = performance.now();
      return;
    }
    const message = parseMessage(data.toString('utf8'));
    if (message === null) return;
    if (message.type === 'status-update' && message.status === 'in-progress') this.#start();
    if (message.type === 'end-of-call-report') this.#endedReason = String(message.endedReason ?? '');
    if (message.type === 'speech-update') {
      const started = message.status === 'started';
      if (message.role === 'assistant') {
        this.#assistantSpeaking = started;
        if (started) this.#replyPending = false;
        this.#lastVoiceAt = performance.now();
      } else if (message.role === 'user' && !started) this.#replyPending = true;
    }
    if (message.type === 'hang') this.#replyPending = false;
    const line = describe(message);
    if (line !== null) print(line);
  };

  #onSigint = (): void => {
    print('interrupted: hanging up');
    this.#hangUp();
  };

  #schedule(fn: () => void, ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        fn();
      },
      Math.max(0, ms),
    );
  }

  #cleanUp(): void {
    this.#phase = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    process.off('SIGINT', this.#onSigint);
  }
}

function peak(pcm: Int16Array): number {
  let max = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = Math.abs(pcm[i]!);
    if (v > max) max = v;
  }
  return max;
}

function parseMessage(text: string): Record<string, unknown> | null {
  try {
    const json = JSON.parse(text) as unknown;
    return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** One line per server message worth showing; partial transcripts are skipped (their final follows). */
function describe(m: Record<string, unknown>): string | null {
  switch (m.type) {
    case 'status-update':
      return m.endedReason === undefined
        ? `status: ${String(m.status)}`
        : `status: ${String(m.status)} (${String(m.endedReason)})`;
    case 'transcript':
      return m.transcriptType === 'final' ? `${String(m.role)}: ${String(m.transcript)}` : null;
    case 'speech-update':
      return `${String(m.role)} ${m.status === 'started' ? 'started' : 'stopped'} speaking`;
    case 'user-interrupted':
      return 'user interrupted the assistant';
    case 'hang':
      return 'the assistant is taking long to answer';
    case 'error':
      return `error ${String(m.code)}: ${String(m.message)}`;
    case 'end-of-call-report':
      return `report: ${String(m.endedReason)}, ${Number(m.durationSeconds ?? 0).toFixed(1)} s`;
    default:
      return null;
  }
}
