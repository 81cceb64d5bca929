/**
 * VoxEngine's `OpenAI` module: `require(Modules.OpenAI)` in a compat scenario, `import { OpenAI } from
 * 'voxgate/voxengine'` in TypeScript. Self-contained: the connector lives in src/connectors/openaiRealtimeClient.ts;
 * this file binds it to the running session (handlers through the session's safe emit, the client closed when the
 * session ends, the session's limits as defaults).
 *
 * @example
 * ```ts
 * const client = await OpenAI.createRealtimeAPIClient({
 *   apiKey: VoxEngine.getSecretValue('OPENAI_KEY'),
 *   bargeIn: true, // clear + cancel + truncate at the audio the caller heard, on speech start
 *   onWebSocketClose: () => call.hangup(),
 * });
 * VoxEngine.sendMediaBetween(call, client); // a mu-law caller gets audio/pcmu both ways, no transcoding
 * client.sessionUpdate({ session: { type: 'realtime', instructions: 'Be brief.' } });
 * client.responseCreate({});
 * ```
 */
import type { RealtimeAPIClientParameters } from '../../connectors/openaiRealtimeClient.js';
import {
  Events,
  RealtimeAPIClient,
  RealtimeAPIClientType,
  RealtimeAPIEvents,
} from '../../connectors/openaiRealtimeClient.js';
import { connectInSession } from './sessionClient.js';

export type {
  RealtimeAPIClientEventMap,
  RealtimeAPIClientParameters,
  RealtimeAPIEventName,
} from '../../connectors/openaiRealtimeClient.js';
export type {
  ConnectorCloseEvent,
  ConnectorEvent,
  ConnectorEventData,
  ConnectorMediaEvent,
} from '../../connectors/types.js';

/**
 * Connects to the OpenAI Realtime API and resolves to a media-unit client; rejects with a coded error
 * (VG_ERR_CONNECT_FAILED, _TIMEOUT, VG_ERR_UPSTREAM_HTTP, VG_ERR_BAD_ARGUMENT).
 */
function createRealtimeAPIClient(parameters: RealtimeAPIClientParameters): Promise<RealtimeAPIClient> {
  return connectInSession(parameters, (p) => new RealtimeAPIClient(p));
}

/** The `OpenAI` module object. */
export const OpenAI = Object.freeze({
  createRealtimeAPIClient,
  RealtimeAPIClient,
  RealtimeAPIEvents,
  Events,
  RealtimeAPIClientType,
});

/** Types under the module's name, as VoxEngine's typings spell them (`OpenAI.RealtimeAPIClient`). */
export declare namespace OpenAI {
  type RealtimeAPIClient = import('../../connectors/openaiRealtimeClient.js').RealtimeAPIClient;
  type RealtimeAPIClientParameters =
    import('../../connectors/openaiRealtimeClient.js').RealtimeAPIClientParameters;
  type RealtimeAPIClientType = import('../../connectors/openaiRealtimeClient.js').RealtimeAPIClientType;
}
