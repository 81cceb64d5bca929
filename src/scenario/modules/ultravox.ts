/**
 * VoxEngine's `Ultravox` module: `require(Modules.Ultravox)` in a compat scenario, `import { Ultravox } from
 * 'voxgate/voxengine'` in TypeScript. The connector lives in src/connectors/ultravox.ts; this file binds it to
 * the running session (handlers through the session's safe emit, the client closed when the session ends, even
 * while it is still creating the call, and the session's limits as defaults).
 *
 * @example
 * ```ts
 * const agent = await Ultravox.createWebSocketAPIClient({
 *   endpoint: Ultravox.HTTPEndpoint.CREATE_CALL,
 *   authorizations: { 'X-API-Key': VoxEngine.getSecretValue('ULTRAVOX_API_KEY') },
 *   body: { systemPrompt: 'Be brief.', voice: 'Mark' },
 *   onWebSocketClose: () => call.hangup(),
 * });
 * VoxEngine.sendMediaBetween(call, agent);
 * agent.addEventListener(Ultravox.WebSocketAPIEvents.PlaybackClearBuffer, () => agent.clearMediaBuffer());
 * ```
 */
import {
  Events,
  HTTPEndpoint,
  WebSocketAPIClient,
  type WebSocketAPIClientParameters,
  WebSocketAPIEvents,
} from '../../connectors/ultravox.js';
import { connectInSession } from './sessionClient.js';

export type {
  WebSocketAPIClientEventMap,
  WebSocketAPIClientParameters,
  WebSocketAPIEventName,
} from '../../connectors/ultravox.js';

/**
 * Creates the Ultravox call (CREATE_CALL, CREATE_AGENT_CALL) or takes a joinUrl (JOIN_CALL), joins it, and
 * resolves to a media-unit client; rejects with a coded error (VG_ERR_BAD_ARGUMENT, VG_ERR_UPSTREAM_HTTP,
 * VG_ERR_UPSTREAM_PROTOCOL, VG_ERR_CONNECT_FAILED, _TIMEOUT, _ABORTED).
 */
function createWebSocketAPIClient(parameters: WebSocketAPIClientParameters): Promise<WebSocketAPIClient> {
  return connectInSession(parameters, (p) => new WebSocketAPIClient(p));
}

/** The `Ultravox` module object. */
export const Ultravox = Object.freeze({
  createWebSocketAPIClient,
  WebSocketAPIClient,
  WebSocketAPIEvents,
  Events,
  HTTPEndpoint,
});

/** Types under the module's name, as VoxEngine's typings spell them (`Ultravox.WebSocketAPIClient`). */
export declare namespace Ultravox {
  type WebSocketAPIClient = import('../../connectors/ultravox.js').WebSocketAPIClient;
  type WebSocketAPIClientParameters = import('../../connectors/ultravox.js').WebSocketAPIClientParameters;
  type HTTPEndpoint = import('../../connectors/ultravoxProtocol.js').HTTPEndpoint;
}
