import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { type LoadedScenario, loadScenario, startSession } from '../scenario/runtime.js';
import type { AgentName, ServerConfig } from './config.js';
import type { LiveCall, SessionStarter } from './liveCall.js';

/**
 * Which scenario a call runs, and starting it. Scenarios are named by a file path or a built-in name; all of
 * those the configuration names are loaded at start, so a broken scenario stops the server before any call.
 */

const BUILTINS: Record<string, { file: string; description: string }> = {
  default: {
    file: 'default.ts',
    description: 'default (the configured agent greets callers, answers and calls tools)',
  },
  echo: { file: 'echo.ts', description: 'echo (callers hear their own audio back)' },
};

/** The file behind the `default` built-in, by agent: the echo agent is the echo scenario. */
const DEFAULT_FOR_AGENT: Record<AgentName, string> = {
  local: 'default.ts',
  openai: 'default.ts',
  ultravox: 'ultravox-agent.ts',
  'ultravox-local': 'ultravox-agent.ts',
  echo: 'echo.ts',
};

export const BUILTIN_SCENARIOS = Object.keys(BUILTINS);

/** The file a scenario name stands for; `default` depends on the agent. */
export function scenarioPath(name: string, agent: AgentName = 'local'): string {
  const builtin = BUILTINS[name];
  if (builtin !== undefined) {
    const file = name === 'default' ? DEFAULT_FOR_AGENT[agent] : builtin.file;
    return fileURLToPath(new URL(`../../scenarios/${file}`, import.meta.url));
  }
  return resolve(name);
}

/** Whether a configured scenario may use the agent (everything but the echo built-in, or `default` as echo). */
export function usesAgent(name: string, agent: AgentName): boolean {
  if (name === 'echo') return false;
  return !(name === 'default' && agent === 'echo');
}

/** How the scenario's `call.sendMessage` reaches the caller (the server shapes Vapi messages). */
export type ScenarioMessageSink = (call: LiveCall, message: Record<string, unknown>) => void;

export class ScenarioHost {
  readonly #config: ServerConfig;
  readonly #loaded = new Map<string, LoadedScenario>();
  /** `VoxEngine.getSecretValue` values: the agent's (set once it has started). */
  #secrets: Readonly<Record<string, string>> = {};

  constructor(config: ServerConfig, _logger: Logger) {
    this.#config = config;
  }

  /** Every configured scenario name: the default and the assistants'. */
  names(): string[] {
    return [
      ...new Set([this.#config.scenario, ...Object.values(this.#config.assistants).map((a) => a.scenario)]),
    ];
  }

  set secrets(secrets: Readonly<Record<string, string>>) {
    this.#secrets = secrets;
  }

  /** Loads the default scenario and every assistant's; throws a ConfigError naming the one that failed. */
  async load(): Promise<void> {
    for (const name of this.names()) {
      const path = scenarioPath(name, this.#config.agent);
      if (BUILTINS[name] === undefined && !existsSync(path)) {
        throw new ConfigError(
          `scenario '${name}' is neither a built-in (${BUILTIN_SCENARIOS.join(', ')}) nor a file (looked for ${path})`,
        );
      }
      try {
        this.#loaded.set(name, await loadScenario(path));
      } catch (err) {
        throw new ConfigError(`scenario '${name}' failed to load: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** The scenario for a call: its configured assistant's, a built-in named by `assistantId`, else the default. */
  scenarioFor(assistantId: string | undefined): string {
    if (assistantId === undefined) return this.#config.scenario;
    const assistant = this.#config.assistants[assistantId];
    if (assistant !== undefined) return assistant.scenario;
    return BUILTINS[assistantId] !== undefined && this.#loaded.has(assistantId)
      ? assistantId
      : this.#config.scenario;
  }

  describe(name: string): string {
    if (name === 'default' && this.#config.agent === 'echo')
      return 'default (the echo agent: callers hear their own audio back)';
    return BUILTINS[name]?.description ?? scenarioPath(name);
  }

  /** Starts calls' sessions with the scenario runtime. */
  starter(sendMessage: ScenarioMessageSink): SessionStarter {
    return (call, transport) => {
      const scenario = this.#loaded.get(call.scenario);
      if (scenario === undefined) throw new ConfigError(`scenario '${call.scenario}' is not loaded`);
      return startSession(scenario, {
        transport,
        callId: call.id,
        accessUrl: call.accessUrl,
        logger: call.log,
        secrets: this.#secrets,
        sendMessage: (message) => sendMessage(call, message),
        ...(call.customData === undefined ? {} : { customData: call.customData }),
      });
    };
  }
}
