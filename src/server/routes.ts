import { randomUUID } from 'node:crypto';
import { ErrorCodes } from '../errors.js';
import { parseCallerControl } from '../transports/vapiWebSocket.js';
import { hashSecret, newToken } from './auth.js';
import { parseCreateCall } from './callBody.js';
import type { ServerConfig } from './config.js';
import { httpError, type RequestContext, type Route, readJson, sendJson, sendText } from './http.js';
import type { LiveCall } from './liveCall.js';
import type { ServerMetrics } from './metrics.js';
import type { CallRecord, CallRegistry } from './registry.js';

/**
 * The HTTP API (docs/api.md): Vapi's call routes (`POST /call`, `GET /call`, `GET /call/:id`), Live Call Control
 * (`POST /call/:id/control`), `/healthz` and `/metrics`. Handlers throw VoxgateErrors; the server turns them into
 * JSON error replies.
 */

export interface RouteDeps {
  config: ServerConfig;
  registry: CallRegistry;
  metrics: ServerMetrics;
  liveCalls: Map<string, LiveCall>;
  /** True once shutdown began: no new calls. */
  closing: () => boolean;
  /** Makes and registers the live side of a new call. */
  addCall: (record: CallRecord, request: ReturnType<typeof parseCreateCall>, publicBase: string) => LiveCall;
  /** The scenario an `assistantId` selects (the default one when it names no configured assistant). */
  scenarioFor: (assistantId: string | undefined) => string;
  /** What `/healthz` says besides its status (the agent, recognition). */
  health: () => Record<string, unknown>;
}

const LIST_DEFAULT = 100;
const LIST_MAX = 1000;

export function apiRoutes(deps: RouteDeps): Route[] {
  return [
    { method: 'POST', path: '/call', auth: true, handler: (ctx) => createCall(ctx, deps) },
    { method: 'GET', path: '/call', auth: true, handler: (ctx) => listCalls(ctx, deps) },
    { method: 'GET', path: '/call/:id', auth: true, handler: (ctx) => getCall(ctx, deps) },
    { method: 'POST', path: '/call/:id/control', auth: true, handler: (ctx) => controlCall(ctx, deps) },
    { method: 'GET', path: '/healthz', auth: false, handler: (ctx) => health(ctx, deps) },
    {
      method: 'GET',
      path: '/metrics',
      auth: true,
      handler: ({ res }) =>
        sendText(res, 200, deps.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8'),
    },
  ];
}

async function createCall({ req, res }: RequestContext, deps: RouteDeps): Promise<void> {
  if (deps.closing()) throw httpError(ErrorCodes.SHUTTING_DOWN, 503, 'the server is shutting down');
  const request = parseCreateCall(await readJson(req, deps.config.limits.maxBodyBytes));
  const { maxCalls } = deps.config.limits;
  if (deps.liveCalls.size >= maxCalls) {
    throw httpError(
      ErrorCodes.TOO_MANY_CALLS,
      429,
      `this server already has ${maxCalls} calls (limits.maxCalls)`,
      {
        limit: maxCalls,
      },
    );
  }
  const token = newToken();
  const now = new Date();
  const record: CallRecord = {
    id: randomUUID(),
    type: 'vapi.websocketCall',
    status: 'queued',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    scenario: deps.scenarioFor(request.assistantId),
    transport: { provider: 'vapi.websocket', audioFormat: request.wireFormat },
    messages: [],
    tokenHash: hashSecret(token),
    tokenExpiresAt: now.getTime() + deps.config.timeouts.tokenTtlMs,
    tokenUsed: false,
  };
  if (request.assistantId !== undefined) record.assistantId = request.assistantId;
  if (request.metadata !== undefined) record.metadata = request.metadata;
  const base = publicBase(deps.config, req.headers.host);
  await deps.registry.create(record);
  deps.addCall(record, request, base);
  deps.metrics.callsCreated++;
  const body = publicCall(record, base);
  const wsBase = base.replace(/^http/, 'ws');
  (body.transport as Record<string, unknown>).websocketCallUrl =
    `${wsBase}/call/${record.id}/transport?token=${token}`;
  sendJson(res, 201, body);
}

async function listCalls({ req, res, url }: RequestContext, deps: RouteDeps): Promise<void> {
  const raw = url.searchParams.get('limit');
  let limit = LIST_DEFAULT;
  if (raw !== null) {
    limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) {
      throw httpError(ErrorCodes.BAD_REQUEST, 400, `limit: must be an integer from 1 to ${LIST_MAX}`, {
        field: 'limit',
      });
    }
  }
  const base = publicBase(deps.config, req.headers.host);
  const calls = await deps.registry.list(limit);
  sendJson(
    res,
    200,
    calls.map((c) => publicCall(c, base)),
  );
}

async function getCall({ req, res, params }: RequestContext, deps: RouteDeps): Promise<void> {
  const record = await deps.registry.get(params.id!);
  if (record === undefined) throw notFound(params.id!);
  sendJson(res, 200, publicCall(record, publicBase(deps.config, req.headers.host)));
}

async function controlCall({ req, res, params }: RequestContext, deps: RouteDeps): Promise<void> {
  const id = params.id!;
  const message = parseCallerControl(await readJson(req, deps.config.limits.maxBodyBytes));
  const live = deps.liveCalls.get(id);
  if (live === undefined || live.state === 'ended') {
    const record = await deps.registry.get(id);
    if (record === undefined) throw notFound(id);
    throw httpError(
      ErrorCodes.CALL_ENDED,
      409,
      `call ${id} has ended (${record.endedReason ?? 'unknown reason'})`,
    );
  }
  if (live.state === 'queued' && message.type !== 'end-call') {
    throw httpError(
      ErrorCodes.INVALID_STATE,
      409,
      `call ${id} has not connected yet; only end-call works now`,
    );
  }
  live.control(message);
  sendJson(res, 200, { id, type: message.type, status: message.type === 'end-call' ? 'ended' : 'accepted' });
}

function health({ res }: RequestContext, deps: RouteDeps): void {
  sendJson(res, deps.closing() ? 503 : 200, {
    status: deps.closing() ? 'shutting-down' : 'ok',
    ...deps.health(),
  });
}

function notFound(id: string) {
  return httpError(ErrorCodes.NOT_FOUND, 404, `no call with id ${id}`);
}

/** The base URL clients reach us at: the configured public URL, else the request's Host. */
function publicBase(config: ServerConfig, host: string | undefined): string {
  if (config.publicUrl !== undefined) return config.publicUrl.replace(/^ws/, 'http').replace(/\/+$/, '');
  return `http://${host ?? `${config.host}:${config.port}`}`;
}

/** A call as the API shows it (Vapi's `Call` shape); never the token. */
export function publicCall(record: Readonly<CallRecord>, base: string): Record<string, unknown> {
  const call: Record<string, unknown> = {
    id: record.id,
    type: record.type,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.assistantId !== undefined) call.assistantId = record.assistantId;
  if (record.startedAt !== undefined) call.startedAt = record.startedAt;
  if (record.endedAt !== undefined) call.endedAt = record.endedAt;
  if (record.endedReason !== undefined) call.endedReason = record.endedReason;
  if (record.metadata !== undefined) call.metadata = record.metadata;
  call.cost = 0;
  call.transport = { ...record.transport };
  call.monitor = { controlUrl: `${base}/call/${record.id}/control` };
  call.messages = record.messages;
  if (record.stats !== undefined) call.stats = record.stats;
  return call;
}
