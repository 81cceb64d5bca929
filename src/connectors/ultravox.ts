/**
 * VoxEngine's `Ultravox.WebSocketAPIClient`: an Ultravox call over its `serverWebSocket`, as a media unit on the
 * shared connector base. For the create endpoints the client makes the REST call itself, then joins the
 * `joinUrl` it got; caller audio routed into it leaves as binary s16le at one second per second in 20 ms frames
 * (silence when the caller is silent or absent); agent audio is paced out to the units attached with
 * `sendMediaTo`; every data message reaches scenario handlers as `{client, data: {customEvent, payload}}`. Each
 * method sends one data message. See docs/ultravox.md.
 */
import { ErrorCodes, UpstreamError, UsageError, type VoxgateError } from '../errors.js';
import type { Link } from '../graph/unit.js';
import type { Logger } from '../log.js';
import { audioFormat } from '../media/format.js';
import type { PlayoutOptions } from '../media/playout.js';
import { connected, type Deliver, VoiceAIClient } from './base.js';
import type { SocketCloseInfo } from './connectorSocket.js';
import { ContinuousUplink } from './continuousUplink.js';
import type { ConnectorCloseEvent, ConnectorEvent, ConnectorMediaEvent } from './types.js';
import {
  type CallPlan,
  type EndpointParameters,
  Events,
  type HTTPEndpoint,
  type MediaEventName,
  planCall,
  readCreateAnswer,
  readServerMessage,
  type WebSocketAPIEventName,
  WebSocketAPIEvents,
} from './ultravoxProtocol.js';

export type { WebSocketAPIEventName } from './ultravoxProtocol.js';
export { Events, HTTPEndpoint, ULTRAVOX_BASE_URL, WebSocketAPIEvents } from './ultravoxProtocol.js';

const E = WebSocketAPIEvents;

/** The handler payload of each event. */
export type WebSocketAPIClientEventMap = {
  [K in WebSocketAPIEventName]: ConnectorEvent<WebSocketAPIClient>;
} & {
  [K in MediaEventName]: ConnectorMediaEvent<WebSocketAPIClient>;
};

export interface WebSocketAPIClientParameters extends EndpointParameters {
  /** `CreateCall`, `CreateAgentCall` (REST call, then join) or `JoinCall` (join `joinUrl`). */
  endpoint: HTTPEndpoint;
  /** JOIN_CALL: the call's joinUrl, created out of band with `serverWebSocket` at the client's rates. */
  joinUrl?: string;
  /** Request headers, e.g. `{'X-API-Key': key}`. Never logged. */
  authorizations?: Record<string, unknown>;
  /** CREATE_AGENT_CALL: `{agent_id}`. */
  pathParameters?: Record<string, unknown>;
  queryParameters?: Record<string, unknown>;
  /** The request body (`systemPrompt`, `voice`, `selectedTools`, ...); `medium` is set by the client. */
  body?: Record<string, unknown>;
  /** Called once when the socket closes after it was open, whoever closed it. */
  onWebSocketClose?: (event: ConnectorCloseEvent<WebSocketAPIClient>) => void;
  /** voxgate: the REST base URL. Default: `ULTRAVOX_BASE_URL` from the environment, else Ultravox's. */
  baseUrl?: string;
  /** voxgate: the rate of caller audio sent, unless the body sets one. Default 16000. */
  inputSampleRate?: number;
  /** voxgate: the rate of agent audio, unless the body sets one. Default: the input rate. */
  outputSampleRate?: number;
  /** voxgate: on `playback_clear_buffer`, clear the media buffer before the handlers run. Default false. */
  bargeIn?: boolean;
  /** voxgate: a `ping` data message this often, ms; 0 = none. Default 15 000. */
  keepaliveIntervalMs?: number;
  /** voxgate: no `pong` this long after a ping closes the client (VG_ERR_KEEPALIVE_TIMEOUT). Default 10 000. */
  keepaliveTimeoutMs?: number;
  /** voxgate: time allowed for the REST call and for the join handshake, each, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** voxgate: caller audio queued before the newest is dropped, ms. Default 500. */
  maxUplinkQueueMs?: number;
  /** voxgate: close the client on a data message that is not valid (default false: report and go on). */
  closeOnProtocolError?: boolean;
  /** voxgate: the playout of agent audio (lead frames, max buffered ms, end after ms). */
  playout?: PlayoutOptions;
  /** voxgate: how handlers are invoked; the scenario runtime passes its safe emit. */
  deliver?: Deliver;
  log?: Logger;
}

/**
 * Creates (or joins) the call and resolves to a client, or rejects with a coded error: VG_ERR_BAD_ARGUMENT,
 * VG_ERR_UPSTREAM_HTTP (with `status` and `details.body`), VG_ERR_UPSTREAM_PROTOCOL, VG_ERR_CONNECT_FAILED,
 * VG_ERR_CONNECT_TIMEOUT, VG_ERR_CONNECT_ABORTED.
 */
export async function createWebSocketAPIClient(
  parameters: WebSocketAPIClientParameters,
): Promise<WebSocketAPIClient> {
  return connected(new WebSocketAPIClient(parameters));
}

export class WebSocketAPIClient extends VoiceAIClient<WebSocketAPIClientEventMap> {
  readonly #params: WebSocketAPIClientParameters;
  readonly #plan: CallPlan;
  readonly #uplink: ContinuousUplink;
  #http: AbortController | null = null;
  #callId: string | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;

  constructor(parameters: WebSocketAPIClientParameters) {
    const plan = planCall(parameters);
    const input = audioFormat('pcm16', plan.inputSampleRate);
    const playout = parameters.playout ?? {};
    super({
      kind: 'ultravox',
      mediaEvents: { started: Events.WebSocketMediaStarted, ended: Events.WebSocketMediaEnded },
      inputFormat: input,
      outputFormat: audioFormat('pcm16', plan.outputSampleRate),
      // The server may send up to clientBufferSizeMs ahead: hold all of it.
      playout: {
        ...playout,
        maxBufferedMs: Math.max(playout.maxBufferedMs ?? 10_000, (plan.clientBufferSizeMs ?? 0) + 1000),
      },
      onWebSocketClose: parameters.onWebSocketClose as ((event: never) => unknown) | undefined,
      deliver: parameters.deliver,
      log: parameters.log,
    });
    this.#params = parameters;
    this.#plan = plan;
    this.#uplink = new ContinuousUplink(
      input,
      (frame) => {
        if (this.socket.sendBinary(frame)) this.stats.framesSent++;
      },
      { maxQueuedMs: parameters.maxUplinkQueueMs ?? 500 },
    );
  }

  /** The Ultravox call id, once known (from the create answer). */
  get callId(): string | null {
    return this.#callId;
  }

  /** @internal Used by createWebSocketAPIClient: the REST call (create endpoints), then the join. */
  async connect(): Promise<void> {
    const p = this.#params;
    const timeoutMs = p.connectTimeoutMs ?? 10_000;
    let joinUrl = this.#plan.joinUrl;
    let answer: Record<string, unknown> | null = null;
    if (this.#plan.create !== null) {
      answer = await this.#create(this.#plan.create, timeoutMs);
      joinUrl = answer.joinUrl as string;
      this.#callId = typeof answer.callId === 'string' ? answer.callId : null;
      if (this.closed) throw httpFailure(null, true, timeoutMs);
    }
    await this.socket.open({ url: joinUrl!, connectTimeoutMs: timeoutMs });
    this.#uplink.start();
    this.#startKeepalive();
    this.log.info({ endpoint: p.endpoint, callId: this.#callId }, 'ultravox client joined');
    // After the factory resolves, so that handlers added right after `await` see them.
    setImmediate(() => {
      if (this.closed) return;
      if (answer !== null) this.#event(E.HTTPResponse, 'http_response', answer);
      this.#event(E.ConnectorInformation, 'connector_information', {
        connector: 'voxgate',
        endpoint: p.endpoint,
        callId: this.#callId,
        inputSampleRate: this.#plan.inputSampleRate,
        outputSampleRate: this.#plan.outputSampleRate,
        clientBufferSizeMs: this.#plan.clientBufferSizeMs,
      });
    });
  }

  /** `client_tool_result`: `{invocationId, result | errorType, responseType?, agentReaction?, ...}`. */
  clientToolResult(parameters: object): void {
    this.#send('clientToolResult', 'client_tool_result', parameters, ['invocationId']);
  }
  /** `data_connection_tool_result`, shaped as `clientToolResult`. */
  dataConnectionToolResult(parameters: object): void {
    this.#send('dataConnectionToolResult', 'data_connection_tool_result', parameters, ['invocationId']);
  }
  /** `forced_agent_message`: `{content, toolCalls?, uninterruptible?, urgency?}`. */
  forcedAgentMessage(parameters: object): void {
    this.#send('forcedAgentMessage', 'forced_agent_message', parameters, []);
  }
  /** `hang_up`: `{message?}`, the agent says it, then the call ends. */
  hangUp(parameters?: object): void {
    this.#send('hangUp', 'hang_up', parameters, []);
  }
  /** @deprecated use userTextMessage. Sends the legacy `input_text_message`: `{text, deferResponse?}`. */
  inputTextMessage(parameters: object): void {
    this.#send('inputTextMessage', 'input_text_message', parameters, ['text']);
  }
  /** `user_text_message`: `{text, urgency?}`. */
  userTextMessage(parameters: object): void {
    this.#send('userTextMessage', 'user_text_message', parameters, ['text']);
  }
  /** `set_output_medium`: `{medium: 'voice' | 'text'}`. */
  setOutputMedium(parameters: object): void {
    const medium = (parameters as { medium?: unknown } | null)?.medium;
    if (medium !== 'voice' && medium !== 'text') {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        "Ultravox setOutputMedium: medium must be 'voice' or 'text'",
      );
    }
    this.#send('setOutputMedium', 'set_output_medium', parameters, []);
  }

  /** Closes the socket (or aborts the create call), the audio both ways, every link. Idempotent. */
  override close(): void {
    this.#http?.abort();
    this.#stop();
    super.close();
  }

  /** @internal Caller audio (PCM16 at the input rate), sent on the uplink's clock. */
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.#uplink.push(frame);
  }

  protected onSocketMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.playAudio(data);
      return;
    }
    const read = readServerMessage(data);
    if (!read.ok) {
      this.stats.protocolErrors++;
      this.reportError(E.WebSocketError, 'protocol_error', read.error.toJSON(), read.error);
      if (this.#params.closeOnProtocolError) this.close();
      return;
    }
    const { message, event } = read;
    if (message.type === 'pong') this.#pong();
    if (event === E.PlaybackClearBuffer && this.#params.bargeIn) this.clearMediaBuffer();
    this.#event(event, message.type, message);
  }

  protected override onSocketClosed(info: SocketCloseInfo): void {
    this.#stop();
    // The server ends a call it hangs up with 1000: that is the call's end, not an error.
    if (!info.byUs && info.code !== 1000 && info.error !== null) {
      this.reportError(E.WebSocketError, 'close', info.error.toJSON(), info.error);
    }
  }

  #event(event: WebSocketAPIEventName, customEvent: string, payload: unknown): void {
    this.dispatch(event, { client: this, data: { customEvent, payload } });
  }

  async #create(
    create: NonNullable<CallPlan['create']>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const endpoint = this.#params.endpoint;
    const abort = new AbortController();
    this.#http = abort;
    let status: number;
    let text: string;
    try {
      const res = await fetch(create.url, {
        method: 'POST',
        headers: create.headers,
        body: JSON.stringify(create.body),
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw httpFailure(err, abort.signal.aborted, timeoutMs);
    } finally {
      this.#http = null;
    }
    const read = readCreateAnswer(endpoint, status, text);
    if (!read.ok) {
      this.log.warn({ code: read.error.code, status, endpoint }, 'ultravox call creation failed');
      throw read.error;
    }
    return read.call;
  }

  #send(method: string, type: string, parameters: object | undefined, required: readonly string[]): void {
    if (
      parameters !== undefined &&
      (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    ) {
      throw new UsageError(ErrorCodes.BAD_ARGUMENT, `Ultravox ${method}: parameters must be an object`);
    }
    const { type: given, ...rest } = (parameters ?? {}) as Record<string, unknown>;
    if (given !== undefined && given !== type) {
      throw new UsageError(
        ErrorCodes.BAD_ARGUMENT,
        `Ultravox ${method}: parameters.type must be '${type}' or absent`,
      );
    }
    for (const field of required) {
      if (typeof rest[field] !== 'string') {
        throw new UsageError(
          ErrorCodes.BAD_ARGUMENT,
          `Ultravox ${method}: parameters.${field} must be a string`,
        );
      }
    }
    if (!this.socket.send(JSON.stringify({ type, ...rest }))) {
      throw new UsageError(ErrorCodes.INVALID_STATE, `Ultravox ${method}: the client is not connected`);
    }
  }

  #startKeepalive(): void {
    const every = this.#params.keepaliveIntervalMs ?? 15_000;
    if (!(every > 0)) return;
    this.#pingTimer = setInterval(() => this.#ping(), every);
    this.#pingTimer.unref();
  }

  #ping(): void {
    if (this.#pongTimer !== null) return;
    if (!this.socket.send(JSON.stringify({ type: 'ping', timestamp: Date.now() / 1000 }))) return;
    const timeoutMs = this.#params.keepaliveTimeoutMs ?? 10_000;
    this.#pongTimer = setTimeout(() => this.#keepaliveFailed(timeoutMs), timeoutMs);
    this.#pongTimer.unref();
  }

  #pong(): void {
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
  }

  #keepaliveFailed(timeoutMs: number): void {
    this.#pongTimer = null;
    const error = new UpstreamError(
      ErrorCodes.KEEPALIVE_TIMEOUT,
      `Ultravox did not answer a ping within ${timeoutMs} ms`,
      {
        retryable: true,
        details: { timeoutMs },
      },
    );
    this.reportError(E.WebSocketError, 'keepalive', error.toJSON(), error);
    this.#stop();
    this.socket.close(1011, 'keepalive timeout');
  }

  #stop(): void {
    this.#uplink.stop();
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#pingTimer = null;
    this.#pongTimer = null;
  }
}

function httpFailure(err: unknown, aborted: boolean, timeoutMs: number): VoxgateError {
  if (aborted) {
    return new UpstreamError(
      ErrorCodes.CONNECT_ABORTED,
      'the client was closed while the call was being created',
      {
        retryable: false,
      },
    );
  }
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UpstreamError(ErrorCodes.CONNECT_TIMEOUT, `Ultravox did not answer within ${timeoutMs} ms`, {
      details: { timeoutMs },
    });
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const errno = typeof cause?.code === 'string' ? cause.code : undefined;
  const message =
    typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return new UpstreamError(ErrorCodes.CONNECT_FAILED, `could not reach Ultravox: ${message}`, {
    cause: err,
    ...(errno === undefined ? {} : { details: { errno } }),
  });
}
