import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { type LoadedScenario, loadScenario, startSession } from '../scenario/runtime.js';
import type { ServerConfig } from './config.js';
import type { SessionStarter } from './liveCall.js';

/**
 * Which scenario a call runs, and starting it. Scenarios are named by a file path or a built-in name; all of
 * those the configuration names are loaded at start, so a broken scenario stops the server before any call.
 */

const BUILTINS: Record<string, { file: string; description: string }> = {
  default: {
    file: 'default.ts',
    description: 'default (for now an echo: callers hear their own audio back; the agent bridge comes later)',
  },
  echo: { file: 'echo.ts', description: 'echo (callers hear their own audio back)' },
};

export const BUILTIN_SCENARIOS = Object.keys(BUILTINS);

/** The file a scenario name stands for. */
export function scenarioPath(name: string): string {
  const builtin = BUILTINS[name];
  if (builtin !== undefined)
    return fileURLToPath(new URL(`../../scenarios/${builtin.file}`, import.meta.url));
  return resolve(name);
}

export class ScenarioHost {
  readonly #config: ServerConfig;
  readonly #loaded = new Map<string, LoadedScenario>();

  constructor(config: ServerConfig, _logger: Logger) {
    this.#config = config;
  }

  /** Loads the default scenario and every assistant's; throws a ConfigError naming the one that failed. */
  async load(): Promise<void> {
    const names = new Set([
      this.#config.scenario,
      ...Object.values(this.#config.assistants).map((a) => a.scenario),
    ]);
    for (const name of names) {
      const path = scenarioPath(name);
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
    return BUILTINS[name]?.description ?? scenarioPath(name);
  }

  /** Starts calls' sessions with the scenario runtime. */
  starter(): SessionStarter {
    return (call, transport) => {
      const scenario = this.#loaded.get(call.scenario);
      if (scenario === undefined) throw new ConfigError(`scenario '${call.scenario}' is not loaded`);
      return startSession(scenario, {
        transport,
        callId: call.id,
        accessUrl: call.accessUrl,
        logger: call.log,
        ...(call.customData === undefined ? {} : { customData: call.customData }),
      });
    };
  }
}
