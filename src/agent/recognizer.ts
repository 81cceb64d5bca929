/**
 * Speech recognition where the machine has it: Debian's `pocketsphinx` + `pocketsphinx-en-us` (spec/dependencies.md
 * §7), in a child process, one per call at most.
 *
 * The brain seam hands us whole committed turns, so we run `pocketsphinx_batch` rather than `_continuous`: one
 * long-lived process per call reads utterance ids from its control file (our pipe) and decodes each turn's audio
 * file as one utterance, printing `words (id score)` as soon as it is done. That gives an exact answer per turn,
 * with no dependence on pocketsphinx's own VAD splitting or merging utterances, and no timing heuristics. The
 * model loads once per process (0.3–0.8 s, paid by the first turn) and decoding runs at about 0.2–0.3× real time.
 *
 * pocketsphinx cannot open `/dev/stdin` or `/dev/stdout` when Node gives it a socketpair, so it runs as
 * `sh -c 'cat | pocketsphinx_batch … | cat'`: real pipes on both sides. The shell, both `cat`s and pocketsphinx share
 * one process group (spawned detached), which close() kills as a whole; if Node dies instead, the pipes close and
 * every one of them exits on EOF.
 *
 * Each turn's audio is written to a file in a private temporary directory (mode 0700) and deleted as soon as its
 * result arrives; the directory goes at close().
 *
 * Cost: about 100 MB RSS per process with the full language model (measured 106 MB), so about three concurrent
 * recognisers per core. The packaged model needs wideband audio (spec/dependencies.md §7 measured 6–17 % words
 * for 8 kHz G.711), so by default {@link canRecognize} refuses rates below 16 kHz and the local agent falls back to
 * echo mode there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ErrorCodes, VoxgateError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { pcm16Bytes } from '../media/pcm.js';
import { initResampler, Resampler } from '../media/resampler.js';

export const RECOGNIZER_RATE = 16000;
export const RECOGNIZER_INSTALL_HINT = 'apt-get install pocketsphinx pocketsphinx-en-us';
const BINARY = 'pocketsphinx_batch';
/** Where Debian's pocketsphinx-en-us puts the model (pocketsphinx's compiled-in default). */
const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface RecognizerStatus {
  readonly available: boolean;
  /** Why (or why not), for logs and /healthz. */
  readonly reason: string;
  readonly binary?: string;
  readonly modelDir?: string;
}

let detected: RecognizerStatus | null = null;

/**
 * Whether `pocketsphinx_batch` is on PATH and the en-us model is installed. Checks files only (no process), once
 * per process unless `refresh`.
 */
export function detectRecognizer(refresh = false): RecognizerStatus {
  if (detected !== null && !refresh) return detected;
  const binary = findOnPath(BINARY);
  if (binary === undefined) {
    detected = { available: false, reason: `pocketsphinx not installed: ${RECOGNIZER_INSTALL_HINT}` };
  } else if (!existsSync(join(MODEL_DIR, 'en-us', 'mdef')) || !existsSync(join(MODEL_DIR, 'en-us.lm.bin'))) {
    detected = {
      available: false,
      reason: `pocketsphinx model not installed (${MODEL_DIR}): ${RECOGNIZER_INSTALL_HINT}`,
      binary,
    };
  } else {
    detected = {
      available: true,
      reason: `pocketsphinx at ${binary}, model ${MODEL_DIR}`,
      binary,
      modelDir: MODEL_DIR,
    };
  }
  return detected;
}

/**
 * Whether audio at `sampleRate` can be recognised. The packaged model needs wideband audio, so the default
 * minimum is 16 kHz; `minSampleRate: 8000` opts in to upsampled telephone audio (much less accurate).
 */
export function canRecognize(sampleRate: number, minSampleRate = RECOGNIZER_RATE): boolean {
  return sampleRate >= minSampleRate;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RecognizerOptions {
  /** How long one turn may take to come back, beyond 1× its duration, ms. Default 8000 (the first turn also loads the model). */
  readonly timeoutMs?: number;
  /**
   * Lowest input rate accepted, Hz. Default 16000. 8000 upsamples telephone audio to 16 kHz: on synthetic speech
   * that scores about 80 % words from 8 kHz PCM and 70 % through G.711 mu-law (scripts/word-accuracy.ts), less on
   * real callers.
   */
  readonly minSampleRate?: number;
  /** Extra pocketsphinx arguments (e.g. `['-jsgf', 'grammar.jsgf']`). */
  readonly args?: readonly string[];
  readonly log?: Logger;
}

interface Waiter {
  readonly resolve: (text: string | null) => void;
  readonly reject: (err: Error) => void;
}

/**
 * One call's recogniser: a pocketsphinx process started on the first {@link recognize} and killed by
 * {@link close}. Turns are decoded in order; several may be queued.
 */
export class Recognizer {
  readonly #timeoutMs: number;
  readonly #minRate: number;
  readonly #args: readonly string[];
  readonly #log: Logger;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #dir: string | null = null;
  readonly #waiters = new Map<string, Waiter>();
  #nextId = 1;
  #stdoutTail = '';
  #stderrTail = '';
  #closed = false;
  #spawned = 0;

  constructor(options: RecognizerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 8000;
    this.#minRate = options.minSampleRate ?? RECOGNIZER_RATE;
    this.#args = options.args ?? [];
    this.#log = options.log ?? createLogger({ component: 'recognizer' });
  }

  /** The process group of the running recogniser (its shell's pid), or undefined when none runs. */
  get processGroup(): number | undefined {
    return this.#child?.pid;
  }

  /** Processes started so far (1 for a healthy call). */
  get processesStarted(): number {
    return this.#spawned;
  }

  /**
   * The words in `pcm` (lower case, space-separated; '' when nothing was recognised), or null when `signal`
   * aborted first. Resamples to 16 kHz; throws a RangeError below 16 kHz. Rejects with VG_ERR_INTERNAL when
   * pocketsphinx fails or times out (the next call starts a fresh process).
   */
  async recognize(pcm: Int16Array, sampleRate: number, signal?: AbortSignal): Promise<string | null> {
    if (this.#closed) throw new VoxgateError(ErrorCodes.INVALID_STATE, 'the recognizer is closed');
    if (!canRecognize(sampleRate, this.#minRate)) {
      throw new RangeError(`speech recognition needs at least ${this.#minRate} Hz audio, got ${sampleRate}`);
    }
    if (signal?.aborted === true) return null;
    const audio = sampleRate === RECOGNIZER_RATE ? pcm : await to16k(pcm, sampleRate);
    this.#ensureProcess();
    const id = `u${this.#nextId++}`;
    const file = join(this.#dir!, `${id}.raw`);
    try {
      await writeFile(file, pcm16Bytes(audio), { mode: 0o600 });
    } catch (err) {
      if (this.#closed) return null; // close() removed the directory under us
      throw err;
    }
    if (this.#closed || isAborted(signal)) {
      await unlink(file).catch(() => {});
      return null;
    }
    // The process may have died while the file was written: start another.
    const child = this.#ensureProcess();
    const started = performance.now();
    const timeoutMs = this.#timeoutMs + (audio.length * 1000) / RECOGNIZER_RATE;
    try {
      const text = await new Promise<string | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#waiters.delete(id);
          signal?.removeEventListener('abort', onAbort);
          reject(
            new VoxgateError(
              ErrorCodes.INTERNAL,
              `speech recognition timed out after ${Math.round(timeoutMs)} ms`,
            ),
          );
          // A stuck process would fail every later turn too: the next turn starts a fresh one.
          void this.#stop();
        }, timeoutMs);
        const onAbort = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(id);
          resolve(null);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.set(id, {
          resolve: (words) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolve(words);
          },
          reject: (err) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        });
        child.stdin?.write(`${id}\n`);
      });
      this.#log.debug(
        {
          audioMs: Math.round((audio.length * 1000) / RECOGNIZER_RATE),
          elapsedMs: Math.round(performance.now() - started),
        },
        'turn recognised',
      );
      return text;
    } finally {
      // Read by now (or, after an abort, skipped by pocketsphinx with an error line: no result to match).
      await unlink(file).catch(() => {});
    }
  }

  /** Kills the process group and removes the temporary directory. Idempotent; pending turns resolve null. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.values()) waiter.resolve(null);
    this.#waiters.clear();
    await this.#stop();
    if (this.#dir !== null) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  #ensureProcess(): ChildProcess {
    if (this.#child !== null) return this.#child;
    const status = detectRecognizer();
    if (!status.available) throw new VoxgateError(ErrorCodes.CONFIG, status.reason);
    this.#dir ??= mkdtempSync(join(tmpdir(), 'voxgate-asr-'));
    const args = [
      ...['-adcin', 'yes', '-samprate', String(RECOGNIZER_RATE), '-cepdir', this.#dir, '-cepext', '.raw'],
      ...['-ctl', '/dev/stdin', '-hyp', '/dev/stdout'],
      ...this.#args,
    ];
    const child = spawn('sh', ['-c', 'cat | "$0" "$@" | cat', status.binary!, ...args], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#spawned++;
    this.#child = child;
    this.#stdoutTail = '';
    this.#stderrTail = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.#onStdout(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      // pocketsphinx logs a lot; keep only the tail of its error lines, for the failure message.
      for (const line of chunk.split('\n')) {
        if (/^(ERROR|FATAL)/.test(line)) this.#stderrTail = `${this.#stderrTail}\n${line}`.slice(-600);
      }
    });
    child.stdin!.on('error', () => {}); // EPIPE when it died; the exit handler reports it.
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.#child === child) this.#child = null;
        if (!this.#closed) {
          this.#log.warn({ code, signal, stderr: this.#stderrTail }, 'pocketsphinx exited');
          const err = new VoxgateError(
            ErrorCodes.INTERNAL,
            `pocketsphinx exited (code ${code}, signal ${signal})${this.#stderrTail}`,
            { retryable: true },
          );
          for (const waiter of this.#waiters.values()) waiter.reject(err);
          this.#waiters.clear();
        }
        resolve();
      });
    });
    child.on('error', (err) => this.#log.warn({ err }, 'pocketsphinx failed to start'));
    this.#log.info({ pgid: child.pid }, 'pocketsphinx started');
    return child;
  }

  /** Lines look like `what is the weather in paris (u3 -7227)`; an empty hypothesis is ` (u3 0)`. */
  #onStdout(chunk: string): void {
    const lines = (this.#stdoutTail + chunk).split('\n');
    this.#stdoutTail = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(.*)\((\S+) -?\d+\)\s*$/.exec(line);
      if (m === null) continue;
      const waiter = this.#waiters.get(m[2]!);
      if (waiter === undefined) continue;
      this.#waiters.delete(m[2]!);
      waiter.resolve(m[1]!.trim().replace(/\s+/g, ' '));
    }
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (child === null || child.pid === undefined) return;
    const pgid = child.pid;
    killGroup(pgid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), 1000);
    await this.#exited;
    clearTimeout(timer);
    // The shell is gone; its children (reparented, reaped by init) may outlive it by a few ms. Wait them out.
    for (let waited = 0; groupAlive(pgid) && waited < 2000; waited += 10) {
      if (waited === 200) killGroup(pgid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#log.info({ pgid }, 'pocketsphinx stopped');
  }
}

/** Whether any process (zombies included) is left in the group. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A function, so TypeScript does not carry an earlier `aborted` check across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function to16k(pcm: Int16Array, sampleRate: number): Promise<Int16Array> {
  await initResampler();
  const resampler = new Resampler(sampleRate, RECOGNIZER_RATE);
  try {
    return resampler.process(pcm);
  } finally {
    resampler.destroy();
  }
}
