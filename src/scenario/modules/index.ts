/**
 * The VoxEngine modules voxgate implements, for `require(Modules.X)`. Adding a module is one entry in
 * `builtinModules` (plus `export { X }` from voxengine.ts, so TypeScript scenarios can import it):
 *
 *   import { OpenAI } from './openai.js';
 *   const builtinModules = { OpenAI } as const;
 *
 * Then `Modules.OpenAI === 'OpenAI'`, `require(Modules.OpenAI)` returns the module, and in a compat scenario it
 * also makes the global `OpenAI` available, as in VoxEngine.
 */
import { ErrorCodes, UsageError } from '../../errors.js';
import { OpenAI } from './openai.js';
import { Ultravox } from './ultravox.js';

const builtinModules = { OpenAI, Ultravox } as const satisfies Record<string, object>;

export type ModuleName = keyof typeof builtinModules;

const table = new Map<string, object>(Object.entries(builtinModules));

/** `Modules.X === 'X'` for every module voxgate implements. */
export const Modules: { readonly [K in ModuleName]: K } = Object.fromEntries(
  Object.keys(builtinModules).map((name) => [name, name]),
) as { readonly [K in ModuleName]: K };

/** VoxEngine's `require(Modules.X)`: returns the module, or throws a UsageError naming what exists. */
export function requireModule(name: unknown): object {
  const module = typeof name === 'string' ? table.get(name) : undefined;
  if (module === undefined) {
    const known = [...table.keys()].join(', ') || 'none yet';
    throw new UsageError(
      ErrorCodes.BAD_ARGUMENT,
      `require(${typeof name === 'string' ? `'${name.slice(0, 40)}'` : String(name)}): voxgate has no such module (available: ${known})`,
    );
  }
  return module;
}

/** The names compat scenarios may bind as globals through require(). */
export function moduleNames(): string[] {
  return [...table.keys()];
}

/**
 * @internal Adds a module at run time (tests, embedders). Compat scenarios compiled before the call cannot bind
 * its global; load them afterwards.
 */
export function registerModule(name: string, module: object): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(name))
    throw new TypeError(`module name must be an identifier, got '${name}'`);
  table.set(name, module);
  (Modules as Record<string, string>)[name] = name;
}
