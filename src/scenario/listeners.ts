/**
 * VoxEngine-style listener lists: `addEventListener(event, cb)` accepts only functions and says so at the point
 * the bad value is given (VoxEngine only fails later, when the event fires); `removeEventListener(event)` with no
 * callback removes every handler of the event. Delivery goes through the safe emit in context.ts.
 */
import { ErrorCodes, UsageError } from '../errors.js';
import type { ScenarioScope } from './context.js';
import { invokeHandler } from './context.js';

export type Handler<E> = (event: E) => unknown;
type AnyHandler = (event: never) => unknown;

/** A short description of a value for an error message: its type, never its content. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Throws VG_ERR_BAD_HANDLER unless `handler` is a function. */
export function assertHandler(handler: unknown, where: string): asserts handler is AnyHandler {
  if (typeof handler !== 'function') {
    throw new UsageError(
      ErrorCodes.BAD_HANDLER,
      `${where}: the handler must be a function, got ${describeValue(handler)}`,
      { details: { where } },
    );
  }
}

/** Validates an `on*` property value: a function, or null/undefined to unset. */
export function propertyHandler(value: unknown, where: string): AnyHandler | null {
  if (value === null || value === undefined) return null;
  assertHandler(value, where);
  return value;
}

/** The listeners of one object, keyed by event name; `M` maps each event name to its payload type. */
export class Listeners<M extends object> {
  readonly #owner: string;
  readonly #map = new Map<string, AnyHandler[]>();

  /** `owner` names the object in error messages, e.g. `'WebSocket'`. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  add(event: unknown, handler: unknown): void {
    if (typeof event !== 'string' || event === '') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        `${this.#owner}.addEventListener: the event must be a non-empty string (use the enum, e.g. CallEvents.Connected), got ${describeValue(event)}`,
      );
    }
    assertHandler(handler, `${this.#owner}.addEventListener('${event}', …)`);
    const list = this.#map.get(event);
    if (list === undefined) this.#map.set(event, [handler]);
    else if (!list.includes(handler)) list.push(handler);
  }

  remove(event: unknown, handler?: unknown): void {
    if (typeof event !== 'string') return;
    if (handler === undefined || handler === null) {
      this.#map.delete(event);
      return;
    }
    const list = this.#map.get(event);
    const index = list?.indexOf(handler as AnyHandler) ?? -1;
    if (index >= 0) list!.splice(index, 1);
  }

  /** Handlers over all events. */
  get size(): number {
    let n = 0;
    for (const list of this.#map.values()) n += list.length;
    return n;
  }

  count(event: string): number {
    return this.#map.get(event)?.length ?? 0;
  }

  /**
   * Delivers `payload` to `first` (an `on*` property handler, called before the others, as VoxEngine does) and
   * then to each listener of `event`, through the safe emit. A handler added during delivery first runs next time.
   */
  emit<K extends keyof M & string>(
    scope: ScenarioScope,
    event: K,
    payload: M[K],
    thisArg: unknown,
    first: AnyHandler | null = null,
    force = false,
  ): void {
    if (first !== null) invokeHandler(scope, first, thisArg, payload, event, force);
    const list = this.#map.get(event);
    if (list === undefined) return;
    for (const handler of list.slice()) invokeHandler(scope, handler, thisArg, payload, event, force);
  }

  /** A copy with the same handlers (a session starts from its scenario's top-level registrations). */
  clone(owner: string = this.#owner): Listeners<M> {
    const copy = new Listeners<M>(owner);
    for (const [event, list] of this.#map) copy.#map.set(event, list.slice());
    return copy;
  }
}
