/**
 * Compat mode: a plain JavaScript VoxEngine scenario, written against globals (`VoxEngine`, `AppEvents`,
 * `CallEvents`, `WebSocket`, `Logger`, `Modules`, `require`), runs unchanged. The source is compiled once into a
 * function whose parameters are those globals, and the function runs once per session inside the session's
 * context, so top-level `let` state is per call, as on VoxEngine. `setTimeout`/`setInterval` are the session's:
 * their callbacks run through the safe emit and they are cleared when the session ends.
 */
import { Script } from 'node:vm';
import { ErrorCodes, UsageError } from '../errors.js';
import type { CompatHost } from './definition.js';
import {
  AppEvents,
  CallEvents,
  WebSocketAudioEncoding,
  WebSocketCloseCode,
  WebSocketEvents,
  WebSocketReadyState,
} from './enums.js';
import { moduleNames, requireModule } from './modules/index.js';
import { Logger, Modules, VoxEngine, WebSocket } from './voxengine.js';

/** The globals a compat scenario sees, besides the module globals that `require` binds. */
const STATIC_GLOBALS = {
  VoxEngine,
  AppEvents,
  CallEvents,
  WebSocket,
  WebSocketEvents,
  WebSocketReadyState,
  WebSocketCloseCode,
  WebSocketAudioEncoding,
  Logger,
  Modules,
};

const GLOBAL_NAMES = [
  ...Object.keys(STATIC_GLOBALS),
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
];

/** True when `source` looks like an ES module (it has import/export statements) rather than a VoxEngine script. */
export function looksLikeModule(source: string): boolean {
  return /^\s*(?:import\s*[\w*{'"]|export\s)/m.test(source);
}

type Factory = (vg: { globals: Record<string, unknown>; require: (name: unknown) => object }) => () => void;

/**
 * Compiles a compat scenario once. Returns the per-session runner, or throws VG_ERR_SCENARIO_LOAD with the file
 * and line of a syntax error.
 */
export function compileCompat(source: string, filename: string): (host: CompatHost) => void {
  const modules = moduleNames();
  const bind = modules.map((m) => `case ${JSON.stringify(m)}: ${m} = m; break;`).join(' ');
  // Everything before the source sits on line 1, so lineOffset -1 keeps the user's line numbers in stack traces.
  const prelude =
    `(function (__vg) { const { ${GLOBAL_NAMES.join(', ')} } = __vg.globals; ` +
    (modules.length > 0 ? `let ${modules.join(', ')}; ` : '') +
    `const require = function (name) { const m = __vg.require(name); switch (name) { ${bind} } return m; }; ` +
    'return function () {\n';
  let factory: Factory;
  try {
    // A `#!` line is only legal at the very start of a script; inside the wrapper it becomes a comment.
    const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
    const script = new Script(`${prelude}${body}\n}; })`, { filename, lineOffset: -1 });
    factory = script.runInThisContext() as Factory;
  } catch (err) {
    throw new UsageError(
      ErrorCodes.SCENARIO_LOAD,
      `cannot compile scenario ${filename}: ${syntaxLocation(err)}`,
      { cause: err },
    );
  }
  return (host: CompatHost) => {
    const globals: Record<string, unknown> = {
      ...STATIC_GLOBALS,
      setTimeout: (cb: unknown, ms?: unknown, ...args: unknown[]) => host.setTimer(cb, ms, false, args),
      setInterval: (cb: unknown, ms?: unknown, ...args: unknown[]) => host.setTimer(cb, ms, true, args),
      clearTimeout: (handle: unknown) => host.clearTimer(handle),
      clearInterval: (handle: unknown) => host.clearTimer(handle),
    };
    factory({ globals, require: requireModule })();
  };
}

/** `message (file:line)` from a SyntaxError's stack, whose first line names the location. */
function syntaxLocation(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const where = err.stack?.split('\n')[0];
  return where !== undefined && where !== err.message && !where.startsWith(err.name)
    ? `${err.message} (${where})`
    : err.message;
}
