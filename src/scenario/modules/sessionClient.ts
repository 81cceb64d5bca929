/**
 * Binding a connector client to the running session, shared by every AI module (OpenAI, Ultravox, ...):
 * handlers run through the session's safe emit with the client as `this`, the session's limits are the
 * defaults, and the client is closed when the session ends — even while it is still connecting.
 */
import { connected, type Deliver } from '../../connectors/base.js';
import type { Logger } from '../../log.js';
import type { PlayoutOptions } from '../../media/playout.js';
import type { SessionResource } from '../context.js';
import { currentScope, invokeHandler } from '../context.js';

/** What every module's client parameters have in common. */
export interface SessionBindableParameters {
  connectTimeoutMs?: number;
  playout?: PlayoutOptions;
  deliver?: Deliver;
  log?: Logger;
}

type CloseHandler = (this: unknown, event: { client: unknown }) => void;

export interface ConnectableClient {
  connect(): Promise<void>;
  close(): void;
}

/**
 * Makes the client with `create` and connects it. Outside a session, the parameters are used as given. A failed
 * connect closes the client and rethrows the coded error.
 */
export async function connectInSession<C extends ConnectableClient, P extends SessionBindableParameters>(
  parameters: P,
  create: (parameters: P) => C,
): Promise<C> {
  const scope = currentScope();
  if (scope === undefined) return connected(create(parameters));
  // Each vendor types its close event; here only `client` matters.
  const userClose = (parameters as { onWebSocketClose?: CloseHandler }).onWebSocketClose;
  const client = create({
    connectTimeoutMs: scope.limits.connectTimeoutMs,
    playout: { leadFrames: scope.limits.leadFrames, maxBufferedMs: scope.limits.maxBufferedMs },
    log: scope.log,
    ...parameters,
    deliver: (handler, event, name) =>
      invokeHandler(scope, handler, (event as { client?: unknown }).client, event, name),
    onWebSocketClose: (event: { client: unknown }) => {
      scope.untrack(resource);
      // Already inside the session's safe emit (see deliver above).
      userClose?.call(event.client, event);
    },
  } as P);
  const resource: SessionResource = { closeForSession: () => client.close() };
  scope.track(resource); // throws when the session has already ended
  try {
    await client.connect();
  } catch (err) {
    scope.untrack(resource);
    client.close();
    throw err;
  }
  return client;
}
