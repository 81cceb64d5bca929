/**
 * The processes of a load run: the echo server, the systems under test (floor relay, voxgate in its two
 * configurations, the agents-js Twilio peer) and the load generator. Each is a separate `node` process whose pid
 * the orchestrator samples.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TargetSpec } from './common.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('./', import.meta.url));
export const LOG_DIR = join(tmpdir(), 'voxgate-bench-load');

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts `node <args>`; resolves once `ready(line)` accepts a stdout line (or rejects after 30 s). */
function startNode<T>(
  name: string,
  args: string[],
  ready: (line: string) => T | undefined,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ proc: Proc; info: T }> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(join(LOG_DIR, `${name}.log`), 'w');
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', log],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start (see ${LOG_DIR}/${name}.log)`)),
      30_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} (see ${LOG_DIR}/${name}.log)`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const info = ready(line);
      if (info === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ proc: procOf(name, child), info });
    });
  });
}

function procOf(name: string, child: ChildProcess): Proc {
  return {
    name,
    child,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function jsonReady(line: string): { port: number } | undefined {
  try {
    const v = JSON.parse(line) as { ready?: boolean; port?: number };
    return v.ready === true && typeof v.port === 'number' ? { port: v.port } : undefined;
  } catch {
    return undefined;
  }
}

export async function startEcho(): Promise<{ proc: Proc; wsUrl: string; httpUrl: string }> {
  const { proc, info } = await startNode('echo', ['--import', 'tsx', join(HERE, 'echoServer.ts')], jsonReady);
  return {
    proc,
    wsUrl: `ws://127.0.0.1:${info.port}/v1/realtime`,
    httpUrl: `http://127.0.0.1:${info.port}`,
  };
}

export interface SystemDef {
  /** Row name: `floor`, `voxgate-ulaw`, `voxgate-pcm16`, `peer`, `direct-ulaw`, `direct-pcm24`, `…@before`. */
  readonly name: string;
  readonly description: string;
  /** The direct run whose round trip is subtracted, or null for the direct runs themselves. */
  readonly baseline: string | null;
  /** Starts the system's process (none for direct runs) and says how callers reach it. */
  start(echo: { wsUrl: string; httpUrl: string }): Promise<{ proc: Proc | null; target: TargetSpec }>;
}

export interface SystemOptions {
  /** Copies of the repository to run voxgate from as `voxgate-…@<name>` (same-run before/after of a fix). */
  variants?: Record<string, string>;
  /** Directory for `--cpu-prof` output of voxgate processes. */
  cpuProfDir?: string;
}

function profArgs(opts: SystemOptions): string[] {
  return opts.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir];
}

function voxgate(name: string, audio: 'ulaw' | 'pcm16-16k', root: string, opts: SystemOptions): SystemDef {
  return {
    name,
    description:
      audio === 'ulaw'
        ? 'voxgate serve, bench bridge scenario, mu-law 8 kHz callers, audio/pcmu passthrough'
        : 'voxgate serve, bench bridge scenario, PCM16 16 kHz callers resampled to 24 kHz and back',
    baseline: audio === 'ulaw' ? 'direct-ulaw' : 'direct-pcm24',
    async start(echo) {
      const args = [
        ...profArgs(opts),
        join(root, 'bin/voxgate.js'),
        'serve',
        '--port',
        '0',
        '--max-calls',
        '5000',
      ];
      args.push('--scenario', join(root, 'bench/load/bridge.ts'));
      const { proc, info } = await startNode(
        name.replace('@', '-'),
        args,
        (line) => {
          const m = /listening on (http:\/\/[^\s]+)/.exec(line);
          return m === null ? undefined : m[1]!;
        },
        {
          cwd: root,
          // The OpenAI agent settings keep `voxgate serve` from starting its in-process local agent (it would
          // idle beside the bench scenario, but take memory and start-up CPU).
          env: {
            BENCH_OPENAI_URL: `${echo.httpUrl}/`,
            OPENAI_API_KEY: 'sk-bench',
            OPENAI_BASE_URL: `${echo.httpUrl}/`,
            VOXGATE_AGENT: 'openai',
            VOXGATE_IDLE_TIMEOUT_MS: '0',
          },
        },
      );
      return { proc, target: { system: name, protocol: 'vapi', audio, url: info } };
    },
  };
}

export function allSystems(opts: SystemOptions = {}): SystemDef[] {
  const systems: SystemDef[] = [
    // Baselines first in each step, then the floor, voxgate and the peer.
    {
      name: 'direct-ulaw',
      description: 'callers speak OpenAI Realtime (audio/pcmu) straight to the echo server: the baseline',
      baseline: null,
      start: async (echo) => ({
        proc: null,
        target: { system: 'direct-ulaw', protocol: 'openai', audio: 'ulaw', url: echo.wsUrl },
      }),
    },
    {
      name: 'direct-pcm24',
      description:
        'callers speak OpenAI Realtime (audio/pcm 24 kHz) straight to the echo server: the PCM baseline',
      baseline: null,
      start: async (echo) => ({
        proc: null,
        target: { system: 'direct-pcm24', protocol: 'openai', audio: 'pcm16-24k', url: echo.wsUrl },
      }),
    },
    {
      name: 'floor',
      description: 'raw WebSocket relay, each caller socket piped to an echo-server socket, no processing',
      baseline: 'direct-ulaw',
      async start(echo) {
        const upstream = echo.wsUrl.replace(/\/v1\/realtime$/, '');
        const { proc, info } = await startNode(
          'floor',
          [...profArgs(opts), '--import', 'tsx', join(HERE, 'relay.ts'), '--upstream', upstream],
          jsonReady,
        );
        return {
          proc,
          target: {
            system: 'floor',
            protocol: 'openai',
            audio: 'ulaw',
            url: `ws://127.0.0.1:${info.port}/v1/realtime`,
          },
        };
      },
    },
    voxgate('voxgate-ulaw', 'ulaw', REPO, opts),
    voxgate('voxgate-pcm16', 'pcm16-16k', REPO, opts),
    {
      name: 'peer',
      description:
        '@openai/agents-extensions TwilioRealtimeTransportLayer + RealtimeSession, Twilio mu-law callers',
      baseline: 'direct-ulaw',
      async start(echo) {
        const { proc, info } = await startNode(
          'peer',
          [...profArgs(opts), '--import', 'tsx', join(HERE, 'peer.ts'), '--upstream', echo.wsUrl],
          jsonReady,
          { env: { OPENAI_AGENTS_DISABLE_TRACING: '1' } },
        );
        return {
          proc,
          target: {
            system: 'peer',
            protocol: 'twilio',
            audio: 'ulaw',
            url: `ws://127.0.0.1:${info.port}/media`,
          },
        };
      },
    },
  ];
  for (const [variant, dir] of Object.entries(opts.variants ?? {})) {
    systems.push(voxgate(`voxgate-ulaw@${variant}`, 'ulaw', dir, opts));
    systems.push(voxgate(`voxgate-pcm16@${variant}`, 'pcm16-16k', dir, opts));
  }
  return systems;
}

/** The load generator process (IPC). */
export async function startGenerator(): Promise<Proc> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(join(LOG_DIR, 'loadgen.log'), 'w');
  const child = fork(join(HERE, 'loadgen.ts'), [], {
    execArgv: ['--import', 'tsx'],
    cwd: REPO,
    stdio: ['ignore', log, log, 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') {
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  return procOf('loadgen', child);
}
