import { randomBytes } from 'node:crypto';
import type { Brain, BrainSession } from '../agent/brain.js';
import type { LocalBrain } from '../agent/localBrain.js';
import { localBrain } from '../agent/localBrain.js';
import { RECOGNIZER_INSTALL_HINT } from '../agent/recognizer.js';
import {
  type OpenAIRealtimeEmulatorOptions,
  startOpenAIRealtimeEmulator,
} from '../emulators/openaiRealtime.js';
import { startUltravoxEmulator, type UltravoxEmulatorOptions } from '../emulators/ultravox.js';
import type { Logger } from '../log.js';
import type { AgentName, ServerConfig } from './config.js';

/**
 * The agent behind the `default` scenario, and what its sessions learn about it. Scenarios learn the agent the
 * VoxEngine way, as session secrets (`VoxEngine.getSecretValue('OPENAI_API_KEY')`, …; docs/api.md, "Agents"):
 *
 * - `openai`, `ultravox`: the configured key and base URL, passed through.
 * - `local`: an in-process OpenAI Realtime server on 127.0.0.1 (a random port and a random key, so only this
 *   process uses it) with one shared local agent (`localBrain()`) behind it; `OPENAI_BASE_URL` points there.
 * - `ultravox-local`: the same with the in-process Ultravox server.
 * - `echo`: nothing to start.
 *
 * The local servers and the agent start with the server and stop with it: `close()` ends their sessions, the
 * synthesis worker and every recogniser process before it resolves.
 */

/** Taps on the in-process agent servers, for tests and tools; they cannot change what happens. */
export interface LocalAgentTaps {
  readonly onClientEvent?: OpenAIRealtimeEmulatorOptions['onClientEvent'];
  readonly onServerEvent?: OpenAIRealtimeEmulatorOptions['onServerEvent'];
  readonly onClientMessage?: UltravoxEmulatorOptions['onClientMessage'];
}

/** Whether the local agent can recognise speech here (pocketsphinx), for the banner and /healthz. */
export type RecognitionMode = 'pocketsphinx' | 'unavailable';

export interface AgentHost {
  readonly name: AgentName;
  /** `VoxEngine.getSecretValue` values for every session. Never logged. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Set for the local agents. */
  readonly recognition: RecognitionMode | undefined;
  /** One line for the start banner. */
  describe(): string;
  /** One line on recognition for the start banner; undefined when the agent is not local. */
  describeRecognition(): string | undefined;
  close(): Promise<void>;
}

export function agentDescription(agent: AgentName): string {
  switch (agent) {
    case 'local':
      return 'local (the local agent behind an in-process OpenAI Realtime server: no key, no network)';
    case 'ultravox-local':
      return 'ultravox-local (the local agent behind an in-process Ultravox server: no key, no network)';
    case 'openai':
      return 'openai (OpenAI Realtime)';
    case 'ultravox':
      return 'ultravox (Ultravox)';
    case 'echo':
      return 'echo (callers hear their own audio back)';
  }
}

/** Whether `agent` runs a local server and agent in this process. */
export function isLocalAgent(agent: AgentName): boolean {
  return agent === 'local' || agent === 'ultravox-local';
}

/**
 * Starts what `config.agent` needs. `needed: false` (no configured scenario can use it, e.g. `--scenario echo`)
 * starts nothing but still hands out the cloud secrets.
 */
export async function startAgent(
  config: ServerConfig,
  options: { log: Logger; needed: boolean; taps?: LocalAgentTaps },
): Promise<AgentHost> {
  const agent = config.agent;
  const base = { VOXGATE_AGENT: agent };
  if (!isLocalAgent(agent) || !options.needed) {
    const host = staticHost(agent, { ...base, ...cloudSecrets(config) });
    if (!isLocalAgent(agent)) return host;
    return { ...host, describe: () => `${agent} (not started: no configured scenario uses an agent)` };
  }
  const log = options.log.child({ component: 'local-agent' });
  const brain = localBrain({ log });
  const tracked = trackSessions(brain);
  let closeServer: () => Promise<void> = async () => {};
  try {
    await brain.warmUp();
    const key = `local-${randomBytes(18).toString('base64url')}`;
    let secrets: Record<string, string>;
    if (agent === 'local') {
      const emu = await startOpenAIRealtimeEmulator({
        host: '127.0.0.1',
        port: 0,
        brain: tracked.brain,
        apiKey: key,
        log: options.log.child({ component: 'emulator', vendor: 'openai' }),
        ...definedTaps({
          onClientEvent: options.taps?.onClientEvent,
          onServerEvent: options.taps?.onServerEvent,
        }),
      });
      closeServer = () => emu.close();
      secrets = {
        ...base,
        OPENAI_API_KEY: key,
        OPENAI_BASE_URL: `http://127.0.0.1:${emu.port}/`,
        ...(config.openai.model === undefined ? {} : { OPENAI_MODEL: config.openai.model }),
      };
    } else {
      const emu = await startUltravoxEmulator({
        host: '127.0.0.1',
        port: 0,
        brain: tracked.brain,
        apiKey: key,
        log: options.log.child({ component: 'emulator', vendor: 'ultravox' }),
        ...definedTaps({ onClientMessage: options.taps?.onClientMessage }),
      });
      closeServer = () => emu.close();
      secrets = { ...base, ULTRAVOX_API_KEY: key, ULTRAVOX_BASE_URL: emu.baseUrl };
    }
    log.info({ agent, recognition: brain.recognizer.available }, 'local agent started');
    return localHost(agent, secrets, brain, async () => {
      await closeServer();
      await brain.close();
      await tracked.settled();
    });
  } catch (err) {
    await closeServer();
    await brain.close();
    await tracked.settled();
    throw err;
  }
}

function cloudSecrets(config: ServerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  const { openai, ultravox } = config;
  if (openai.apiKey !== undefined) {
    out.OPENAI_API_KEY = openai.apiKey;
    out.OPENAI_BASE_URL = openai.baseUrl;
    if (openai.model !== undefined) out.OPENAI_MODEL = openai.model;
  }
  if (ultravox.apiKey !== undefined) {
    out.ULTRAVOX_API_KEY = ultravox.apiKey;
    if (ultravox.baseUrl !== undefined) out.ULTRAVOX_BASE_URL = ultravox.baseUrl;
  }
  return out;
}

function staticHost(agent: AgentName, secrets: Record<string, string>): AgentHost {
  return {
    name: agent,
    secrets: Object.freeze(secrets),
    recognition: undefined,
    describe: () => agentDescription(agent),
    describeRecognition: () => undefined,
    close: async () => {},
  };
}

function localHost(
  agent: AgentName,
  secrets: Record<string, string>,
  brain: LocalBrain,
  close: () => Promise<void>,
): AgentHost {
  const available = brain.recognizer.available;
  let closed: Promise<void> | null = null;
  return {
    name: agent,
    secrets: Object.freeze(secrets),
    recognition: available ? 'pocketsphinx' : 'unavailable',
    describe: () => agentDescription(agent),
    describeRecognition: () =>
      available
        ? 'pocketsphinx (16 kHz+ callers), echo mode for 8 kHz callers'
        : `unavailable (${RECOGNIZER_INSTALL_HINT}), echo mode`,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}

/**
 * The emulators close a brain session without waiting for it (a recogniser process takes a moment to exit).
 * This wrapper keeps those closings, so shutdown can wait until every recogniser process is gone.
 */
function trackSessions(brain: LocalBrain): { brain: Brain; settled: () => Promise<void> } {
  const closing = new Set<Promise<void>>();
  const wrapped: Brain = {
    name: brain.name,
    openSession(info) {
      const session = brain.openSession(info);
      const view: BrainSession = {
        respond: (turn) => session.respond(turn),
        transcribe: async (audio, signal) => (await session.transcribe?.(audio, signal)) ?? null,
        close: () => {
          const done = session.close().catch(() => {});
          closing.add(done);
          void done.then(() => closing.delete(done));
        },
      };
      return view;
    },
  };
  return { brain: wrapped, settled: async () => void (await Promise.all(closing)) };
}

function definedTaps<T extends object>(taps: T): Partial<T> {
  return Object.fromEntries(Object.entries(taps).filter(([, v]) => v !== undefined)) as Partial<T>;
}
