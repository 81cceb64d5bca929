/**
 * The scenario runtime's API for the server: load a scenario once, start one session per call.
 *
 * @example
 * const scenario = await loadScenario('scenarios/bridge.ts');
 * const session = startSession(scenario, { transport, callerid: '+15550100', accessUrl: `http://host/ws/${id}` });
 * session.on('error', (err) => log.warn({ code: err.code }, 'scenario error'));
 * session.on('terminated', ({ reason }) => registry.delete(id));
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, UsageError } from '../errors.js';
import { compileCompat, looksLikeModule } from './compat.js';
import type { ScenarioKind } from './definition.js';
import { ScenarioDefinition, withLoading, withLoadingAsync } from './definition.js';
import type { SessionOptions } from './session.js';
import { Session } from './session.js';

export type { ScenarioLimits } from './context.js';
export { DEFAULT_LIMITS } from './context.js';
export type { SessionEvents, SessionObserverEvents, SessionOptions, SessionState } from './session.js';
export { Session };

/** A scenario ready to run: load it once, then `startSession` for each call. */
export interface LoadedScenario {
  /** The file name without extension, or the name given to defineScenario. */
  readonly name: string;
  /** `module`: an ES/TypeScript module; `compat`: a plain VoxEngine script; `defined`: defineScenario. */
  readonly kind: ScenarioKind;
}

const cache = new Map<string, Promise<ScenarioDefinition>>();

/**
 * Loads a scenario file (a path or a `file:` URL), once per file: later calls return the same scenario.
 *
 * - `.ts`, `.mts`, `.mjs`, and `.js` with `import`/`export`: imported as a module; its top-level
 *   `VoxEngine.addEventListener` calls register the handlers (or its default export is a `defineScenario` result).
 * - `.cjs`, and `.js` without `import`/`export`: compat mode, a VoxEngine script using globals.
 *
 * Errors: VG_ERR_SCENARIO_LOAD, with a message naming the file and the cause.
 */
export function loadScenario(pathOrModuleUrl: string): Promise<LoadedScenario> {
  const url = pathOrModuleUrl.startsWith('file:')
    ? pathOrModuleUrl
    : pathToFileURL(resolve(pathOrModuleUrl)).href;
  let loaded = cache.get(url);
  if (loaded === undefined) {
    loaded = load(url);
    cache.set(url, loaded);
    loaded.catch(() => cache.delete(url));
  }
  return loaded;
}

async function load(url: string): Promise<ScenarioDefinition> {
  const path = fileURLToPath(url);
  const ext = extname(path);
  const name = basename(path, ext);
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw loadError(`cannot read scenario ${path}: ${(err as Error).message}`, err);
  }
  const compat = ext === '.cjs' || (ext === '.js' && !looksLikeModule(source));
  if (compat) {
    const definition = new ScenarioDefinition(name, 'compat');
    definition.perSession = compileCompat(source, path);
    return definition;
  }
  const definition = new ScenarioDefinition(name, 'module');
  let module: { default?: unknown };
  try {
    module = await withLoadingAsync(definition, () => import(url) as Promise<{ default?: unknown }>);
  } catch (err) {
    throw loadError(`cannot load scenario ${path}: ${(err as Error)?.message ?? String(err)}`, err);
  }
  if (module.default instanceof ScenarioDefinition) return module.default;
  if (definition.appListeners.size === 0) {
    throw loadError(
      `scenario ${path} registered no handlers: call VoxEngine.addEventListener(AppEvents.CallAlerting, …) at its top level`,
    );
  }
  return definition;
}

function loadError(message: string, cause?: unknown): UsageError {
  return new UsageError(ErrorCodes.SCENARIO_LOAD, message, cause === undefined ? {} : { cause });
}

/**
 * Defines a scenario in code (built-in scenarios, tests): `setup` runs now, as a scenario's top level would, and
 * registers handlers with `VoxEngine.addEventListener`.
 */
export function defineScenario(name: string, setup: () => void): LoadedScenario {
  const definition = new ScenarioDefinition(name, 'defined');
  withLoading(definition, setup);
  return definition;
}

/**
 * Starts a session for one call around `options.transport`. On the next turn of the event loop (so the caller
 * can attach `error`/`terminated` listeners first) the scenario gets `AppEvents.Started`, then
 * `AppEvents.CallAlerting` with the call. The session ends when its call ends, when the scenario calls
 * `VoxEngine.terminate()`, or on `session.terminate(reason)`.
 */
export function startSession(scenario: LoadedScenario, options: SessionOptions): Session {
  if (!(scenario instanceof ScenarioDefinition)) {
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      'startSession: scenario must come from loadScenario or defineScenario',
    );
  }
  return new Session(scenario, options);
}
