import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, toVoxgateError, VoxgateError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { initMedia } from '../media/index.js';
import { type AgentHost, type LocalAgentTaps, startAgent } from './agents.js';
import { ApiKeyAuth } from './auth.js';
import type { CreateCallRequest } from './callBody.js';
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import { httpError, type RequestContext, RouteTable, sendError } from './http.js';
import { LiveCall, type SessionStarter } from './liveCall.js';
import { ServerMetrics } from './metrics.js';
import { type CallRecord, type CallRegistry, MemoryCallRegistry } from './registry.js';
import { apiRoutes } from './routes.js';
import { ScenarioHost, usesAgent } from './scenarios.js';
import { webRoutes } from './static.js';
import { WsRouter } from './wsRouter.js';

/**
 * The voxgate server: HTTP API, call WebSockets, live calls. `createServer(config)` builds it; `listen()` loads
 * the scenarios and starts listening; `close()` ends every call cleanly (`server-shutdown`) and releases every
 * handle. Tests run it in-process on 127.0.0.1 port 0.
 */

export interface ServerOptions {
  registry?: CallRegistry;
  logger?: Logger;
  /** Replaces the scenario runtime (tests). */
  startSession?: SessionStarter;
  /** Taps on the in-process agent server of the `local` and `ultravox-local` agents (tests). */
  localAgentTaps?: LocalAgentTaps;
}

export interface VoxgateServer {
  readonly config: ServerConfig;
  readonly registry: CallRegistry;
  readonly metrics: ServerMetrics;
  /** Calls on this process that have not finished ending. */
  readonly liveCalls: ReadonlyMap<string, LiveCall>;
  /** `http://host:port` once listening. */
  readonly url: string;
  /** What the default scenario is, for the start banner. */
  describeScenario(): string;
  /** The agent and what it started (after `listen()`), for the start banner and /healthz. */
  readonly agent: AgentHost | null;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createServer(
  input: ServerConfigInput | ServerConfig = {},
  options: ServerOptions = {},
): VoxgateServer {
  return new Server(parseServerConfig(input), options);
}

class Server implements VoxgateServer {
  readonly config: ServerConfig;
  readonly registry: CallRegistry;
  readonly metrics: ServerMetrics;
  readonly liveCalls = new Map<string, LiveCall>();
  /** The same calls by their session key, for VoxEngine incoming WebSockets. */
  readonly #sessionCalls = new Map<string, LiveCall>();
  readonly #log: Logger;
  readonly #auth: ApiKeyAuth;
  readonly #scenarios: ScenarioHost;
  readonly #startSession: SessionStarter;
  readonly #routes: RouteTable;
  readonly #http: HttpServer;
  readonly #ws: WsRouter;
  readonly #options: ServerOptions;
  #agent: AgentHost | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;
  #url = '';

  constructor(config: ServerConfig, options: ServerOptions) {
    this.config = config;
    this.#options = options;
    this.#log = options.logger ?? createLogger({ component: 'server' });
    this.registry = options.registry ?? new MemoryCallRegistry(config.limits.callHistory);
    this.metrics = new ServerMetrics(
      () => this.liveCalls.size,
      () => this.liveCalls.values(),
    );
    this.#auth = new ApiKeyAuth(config.apiKey);
    this.#scenarios = new ScenarioHost(config, this.#log);
    this.#startSession =
      options.startSession ?? this.#scenarios.starter((call, message) => call.scenarioMessage(message));
    this.#routes = new RouteTable([
      ...apiRoutes({
        config,
        registry: this.registry,
        metrics: this.metrics,
        liveCalls: this.liveCalls,
        closing: () => this.#closing,
        addCall: (record, request, publicBase) => this.#addCall(record, request, publicBase),
        scenarioFor: (assistantId) => this.#scenarios.scenarioFor(assistantId),
        health: () => this.#health(),
      }),
      ...webRoutes({ scenario: config.scenario, describeScenario: () => this.describeScenario() }),
    ]);
    this.#http = createHttpServer(this.#onRequest);
    this.#ws = new WsRouter({
      auth: this.#auth,
      registry: this.registry,
      liveCalls: this.liveCalls,
      sessionCalls: this.#sessionCalls,
      closing: () => this.#closing,
      maxPayload: config.limits.maxSocketMessageBytes,
      logger: this.#log,
    });
    this.#http.on('upgrade', this.#ws.handleUpgrade);
  }

  get url(): string {
    return this.#url;
  }

  describeScenario(): string {
    return this.#scenarios.describe(this.config.scenario);
  }

  get agent(): AgentHost | null {
    return this.#agent;
  }

  async listen(): Promise<string> {
    await initMedia();
    await this.#scenarios.load();
    const { agent } = this.config;
    // The local agent starts only when a configured scenario may use it (not for `--scenario echo`).
    this.#agent = await startAgent(this.config, {
      log: this.#log,
      needed:
        this.#options.startSession === undefined && this.#scenarios.names().some((n) => usesAgent(n, agent)),
      ...(this.#options.localAgentTaps === undefined ? {} : { taps: this.#options.localAgentTaps }),
    });
    this.#scenarios.secrets = this.#agent.secrets;
    const http = this.#http;
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(this.config.port, this.config.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.#agent.close();
      throw err;
    }
    const address = http.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
    if (!this.#auth.enabled) {
      this.#log.warn(
        { host: this.config.host },
        'no API key configured: the API is open to anyone who can reach it',
      );
    }
    this.#log.info({ url: this.#url, scenario: this.config.scenario, agent }, 'listening');
    return this.#url;
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  /** Stops accepting, ends every call with `server-shutdown`, waits up to the grace time, cuts what is left. */
  async #shutdown(): Promise<void> {
    this.#closing = true;
    const http = this.#http;
    const serverClosed = new Promise<void>((resolve) => {
      if (http.listening) http.close(() => resolve());
      else resolve();
    });
    http.closeIdleConnections();
    const calls = [...this.liveCalls.values()];
    for (const call of calls) call.end('server-shutdown');
    await waitAll(
      calls.map((c) => c.ended),
      this.config.timeouts.shutdownGraceMs,
    );
    await this.#ws.close();
    http.closeAllConnections();
    await serverClosed;
    // After the calls: their agent sessions are gone; the local agent's server, worker and recognisers stop.
    await this.#agent?.close();
    this.#log.info({ calls: calls.length }, 'stopped');
  }

  /** `/healthz`: the agent, and for the local agents whether speech can be recognised. */
  #health(): Record<string, unknown> {
    const agent = this.#agent;
    if (agent === null) return {};
    return agent.recognition === undefined
      ? { agent: agent.name }
      : { agent: agent.name, recognition: agent.recognition };
  }

  #addCall(record: CallRecord, request: CreateCallRequest, publicBase: string): LiveCall {
    const { config, metrics } = this;
    const live = new LiveCall(record, request.format, publicBase, {
      config,
      registry: this.registry,
      logger: this.#log,
      startSession: this.#startSession,
      transportOptions: {
        maxFrameBytes: config.limits.maxFrameBytes,
        maxBufferedBytes: config.limits.maxOutboundBufferedBytes,
        forwardTiming: metrics.forwardTime,
      },
      onEnded: (call) => {
        this.liveCalls.delete(call.id);
        this.#sessionCalls.delete(call.sessionKey);
        metrics.callEnded(call.endedReason ?? 'unknown', call.transport?.counters);
      },
    });
    live.customData = customDataOf(request);
    this.liveCalls.set(live.id, live);
    this.#sessionCalls.set(live.sessionKey, live);
    return live;
  }

  #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.metrics.httpRequests++;
    this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
  };

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const found = this.#routes.match(method, url.pathname);
    if (found === null) throw httpError(ErrorCodes.NOT_FOUND, 404, `no route for ${method} ${url.pathname}`);
    if ('methods' in found) {
      const allowed = found.methods.join(', ');
      this.metrics.httpErrors++;
      sendError(
        res,
        httpError(ErrorCodes.METHOD_NOT_ALLOWED, 405, `${method} is not allowed here; use ${allowed}`),
        {
          allow: allowed,
        },
      );
      return;
    }
    if (found.route.auth) {
      const result = this.#auth.check(req.headers);
      if (result !== 'ok') {
        const why =
          result === 'missing'
            ? 'send the API key as `Authorization: Bearer <key>`'
            : 'the API key is not valid';
        throw httpError(ErrorCodes.UNAUTHORIZED, 401, why);
      }
    }
    const ctx: RequestContext = { req, res, url, params: found.params };
    await found.route.handler(ctx);
  }

  #fail(res: ServerResponse, err: unknown): void {
    const error = toVoxgateError(err);
    if (error.status === undefined || error.status >= 500) this.#log.error({ err }, 'request failed');
    this.metrics.httpErrors++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const reply =
      error.status === undefined
        ? new VoxgateError(ErrorCodes.INTERNAL, 'internal error', { status: 500 })
        : error;
    // A body we stopped reading leaves the connection unusable for the next request.
    sendError(res, reply, error.code === ErrorCodes.BODY_TOO_LARGE ? { connection: 'close' } : {});
  }
}

/** VoxEngine's custom-data limit (`VoxEngine.customData()`). */
const CUSTOM_DATA_MAX_BYTES = 200;

/**
 * Custom data handed to the scenario (`VoxEngine.customData()`): the request's `metadata` as JSON, when it fits
 * VoxEngine's 200 bytes. Larger metadata stays in the call record only.
 */
function customDataOf(request: CreateCallRequest): string | undefined {
  if (request.metadata === undefined) return undefined;
  const json = JSON.stringify(request.metadata);
  return Buffer.byteLength(json) <= CUSTOM_DATA_MAX_BYTES ? json : undefined;
}

/** Waits for all `promises`, or `ms`, whichever comes first; clears its timer either way. */
async function waitAll(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([Promise.all(promises), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
