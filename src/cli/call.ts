import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import {
  type AudioFormat,
  audioFormat,
  bytesPerSample,
  createConverter,
  Framer,
  initMedia,
  parseWav,
  pcm16View,
  ulawDecode,
  wavFile,
} from '../media/index.js';

const USAGE = `Usage: voxgate call --in speech.wav [options]

Places a call through a voxgate server's API, streams the WAV in real time, records the reply and prints the
call's transcripts and status as they arrive. Like a phone line, it sends silence when not talking. It lets the
agent finish its greeting before talking, and hangs up once the input has ended and the agent has had its say
(no reply pending, quiet for the grace time), or when the call ends.

Options:
  --in FILE          WAV to send (PCM16, mu-law or A-law, any supported rate; converted as needed)
  --out FILE         write what the call sends back to this WAV
  --server URL       server base URL (default $VOXGATE_URL or http://127.0.0.1:8080)
  --key K            API key (default $VOXGATE_API_KEY)
  --format F         pcm_s16le (default) or mulaw
  --rate N           sample rate on the wire (default 16000 for pcm_s16le, 8000 for mulaw)
  --assistant ID     assistantId to ask for
  --grace MS         after the input ends, hang up once the agent has been quiet this long (default 2000)
  --greeting-wait MS wait this long for the agent to start a greeting, then for it to end, before talking
                     (default 1500; 0 talks at once)
  -h, --help         show this help
`;

interface CallOptions {
  input: string;
  output: string | undefined;
  server: string;
  key: string | undefined;
  format: 'pcm_s16le' | 'mulaw';
  rate: number;
  assistantId: string | undefined;
  graceMs: number;
  greetingWaitMs: number;
}

const FRAME_MS = 20;

export async function call(argv: string[]): Promise<number> {
  let options: CallOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if ((err as Error).message === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`voxgate call: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(options);
  } catch (err) {
    process.stderr.write(`voxgate call: ${(err as Error).message}\n`);
    return 1;
  }
}

function parseOptions(argv: string[]): CallOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      server: { type: 'string' },
      key: { type: 'string' },
      format: { type: 'string' },
      rate: { type: 'string' },
      assistant: { type: 'string' },
      grace: { type: 'string' },
      'greeting-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) throw new Error('help');
  if (values.in === undefined) throw new Error('--in is required: the WAV file to send');
  const format = values.format ?? 'pcm_s16le';
  if (format !== 'pcm_s16le' && format !== 'mulaw')
    throw new Error(`--format must be pcm_s16le or mulaw, not ${format}`);
  const rate = values.rate === undefined ? (format === 'mulaw' ? 8000 : 16000) : Number(values.rate);
  const graceMs = values.grace === undefined ? 2000 : Number(values.grace);
  if (!Number.isInteger(graceMs) || graceMs < 0)
    throw new Error('--grace must be a whole number of milliseconds');
  const greetingWaitMs = values['greeting-wait'] === undefined ? 1500 : Number(values['greeting-wait']);
  if (!Number.isInteger(greetingWaitMs) || greetingWaitMs < 0)
    throw new Error('--greeting-wait must be a whole number of milliseconds');
  const server = (values.server ?? process.env.VOXGATE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return {
    input: values.in,
    output: values.out,
    server,
    key: values.key ?? (process.env.VOXGATE_API_KEY || undefined),
    format,
    rate,
    assistantId: values.assistant,
    graceMs,
    greetingWaitMs,
  };
}

/** The input WAV as frames in the call's format, ready to send at 20 ms intervals. */
function loadFrames(path: string, target: AudioFormat): Uint8Array[] {
  const wav = parseWav(readFileSync(path));
  const converter = createConverter(wav.format, target);
  const frames: Uint8Array[] = [];
  const framer = new Framer(wav.format);
  const take = (frame: Uint8Array): void => {
    const out = converter === null ? frame : converter.convert(frame);
    if (out.length > 0) frames.push(out);
  };
  framer.push(wav.data, take);
  framer.flush(take, true);
  converter?.destroy();
  return frames;
}

async function createCall(o: CallOptions): Promise<{ id: string; url: string }> {
  const body: Record<string, unknown> = {
    transport: {
      provider: 'vapi.websocket',
      audioFormat: { format: o.format, container: 'raw', sampleRate: o.rate },
    },
  };
  if (o.assistantId !== undefined) body.assistantId = o.assistantId;
  let res: Response;
  try {
    res = await fetch(`${o.server}/call`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(o.key === undefined ? {} : { authorization: `Bearer ${o.key}` }),
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`cannot reach ${o.server} (${cause}): is \`voxgate serve\` running there?`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== 201) {
    throw new Error(
      `the server refused the call: ${res.status} ${String(json.code ?? '')} ${String(json.message ?? '')}`.trim(),
    );
  }
  const transport = json.transport as { websocketCallUrl?: string } | undefined;
  if (typeof json.id !== 'string' || typeof transport?.websocketCallUrl !== 'string') {
    throw new Error('the server answered without a call id and websocketCallUrl');
  }
  return { id: json.id, url: transport.websocketCallUrl };
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function run(o: CallOptions): Promise<number> {
  await initMedia();
  const format = audioFormat(o.format === 'mulaw' ? 'ulaw' : 'pcm16', o.rate);
  const frames = loadFrames(o.input, format);
  const { id, url } = await createCall(o);
  const seconds = (frames.length * FRAME_MS) / 1000;
  print(`call ${id}: sending ${seconds.toFixed(1)} s of ${o.format} at ${o.rate} Hz`);
  const result = await new CallSocket(url, frames, format, o).done;
  const bps = bytesPerSample(format.encoding);
  const audio = Buffer.concat(result.audio);
  const whole = audio.subarray(0, audio.length - (audio.length % bps));
  const heard = (whole.length / bps / format.sampleRate).toFixed(1);
  print(`call ended: ${result.endedReason}; received ${heard} s of audio`);
  if (o.output !== undefined) {
    writeFileSync(o.output, wavFile(format, whole));
    print(`wrote ${o.output}`);
  }
  return 0;
}

interface CallResult {
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
class CallSocket {
  readonly done: Promise<CallResult>;
  readonly #ws: WebSocket;
  readonly #frames: Uint8Array[];
  readonly #silence: Uint8Array;
  readonly #decode: (frame: Uint8Array) => Int16Array;
  readonly #o: CallOptions;
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

  constructor(url: string, frames: Uint8Array[], format: AudioFormat, o: CallOptions) {
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
