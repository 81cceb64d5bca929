/**
 * A loaded scenario: what its top-level code registered, ready to run once per call. While a scenario's top
 * level runs outside any session (an ES module being imported, a `defineScenario` setup), `VoxEngine.
 * addEventListener` registers into the definition being loaded; inside a session it registers into the session.
 */
import type { AppEventMap } from './appEvents.js';
import { Listeners } from './listeners.js';

/** What a compat (plain JavaScript) scenario needs from its session, besides the context. */
export interface CompatHost {
  setTimer(callback: unknown, ms: unknown, repeat: boolean, args: unknown[]): NodeJS.Timeout;
  clearTimer(handle: unknown): void;
}

export type ScenarioKind = 'module' | 'compat' | 'defined';

export class ScenarioDefinition {
  readonly name: string;
  readonly kind: ScenarioKind;
  /** Top-level registrations; each session starts from a copy. */
  readonly appListeners = new Listeners<AppEventMap>('VoxEngine');
  /** Compat scenarios: runs the script's top level for one session (inside that session's context). */
  perSession: ((host: CompatHost) => void) | undefined;

  constructor(name: string, kind: ScenarioKind) {
    this.name = name;
    this.kind = kind;
  }
}

let loading: ScenarioDefinition | null = null;

/** The definition whose top-level code is running now, if any. */
export function loadingDefinition(): ScenarioDefinition | null {
  return loading;
}

/** Runs `setup` with `definition` as the one being loaded (synchronous top-level code). */
export function withLoading<T>(definition: ScenarioDefinition, setup: () => T): T {
  const previous = loading;
  loading = definition;
  try {
    return setup();
  } finally {
    loading = previous;
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs the async `load` (an ES module import) with `definition` as the one being loaded. Loads are serialized,
 * so two scenarios imported at once never register into each other's definition.
 */
export function withLoadingAsync<T>(definition: ScenarioDefinition, load: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const previous = loading;
    loading = definition;
    try {
      return await load();
    } finally {
      loading = previous;
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
