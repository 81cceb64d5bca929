/**
 * The emulator's REST API (spec/ultravox.md §2-3): create calls (plain and agent), read and delete them, send
 * them data messages; and the check made before a join socket is accepted. Errors use the service's shapes:
 * `{"detail": "..."}` or `{"<field>": ["<message>"]}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { sendJson, type UpgradeDecision } from '../harness.js';
import { agentCallBody, callConfig } from './callConfig.js';
import { callView, type EmulatedCall, markEnded } from './calls.js';
import { clientMessageSchema, REST_MESSAGE_TYPES } from './messages.js';
import { fieldErrors, type StartCallRequest, startAgentCallSchema, startCallSchema } from './requests.js';

/** `/calls/<callId>/join`: the path of every joinUrl. */
export const JOIN_PATH = /^\/calls\/([^/]+)\/join$/;
const MAX_KEPT_CALLS = 5000;

export interface Registry {
  readonly calls: Map<string, EmulatedCall>;
  readonly requests: Map<string, StartCallRequest>;
}

export function authorizeJoin(registry: Registry, url: URL): UpgradeDecision {
  const id = JOIN_PATH.exec(url.pathname)?.[1];
  const call = id === undefined ? undefined : registry.calls.get(id);
  if (call === undefined) return { accept: false, status: 404, body: { detail: 'Not found.' } };
  if (call.config.socket === null) {
    const detail =
      'This call does not use medium.serverWebSocket; the emulator joins only serverWebSocket calls.';
    return { accept: false, status: 400, body: { detail } };
  }
  if (call.ended !== null) return { accept: false, status: 409, body: { detail: 'The call has ended.' } };
  if (call.joined !== null)
    return { accept: false, status: 409, body: { detail: 'The call was already joined.' } };
  return { accept: true };
}

export interface Rest {
  readonly registry: Registry;
  readonly apiKey: string | undefined;
  readonly agents: ReadonlyMap<string, StartCallRequest> | null;
  readonly maxBodyBytes: number;
  readonly newId: () => string;
  readonly joinUrl: (id: string) => string;
  readonly log: Logger;
}

export async function handleRest(
  rest: Rest,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string' || key === '') {
    sendJson(res, 401, { detail: 'Authentication credentials were not provided.' });
    return;
  }
  if (rest.apiKey !== undefined && key !== rest.apiKey) {
    sendJson(res, 401, { detail: 'Invalid API key.' });
    return;
  }
  const path = url.pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  const allow = (methods: string[]): boolean => {
    if (methods.includes(method)) return true;
    sendJson(res, 405, { detail: `Method "${method}" not allowed.` });
    return false;
  };
  const agent = /^\/api\/agents\/([^/]+)\/calls$/.exec(path);
  const send = /^\/api\/calls\/([^/]+)\/send_data_message$/.exec(path);
  const one = /^\/api\/calls\/([^/]+)$/.exec(path);
  if (path === '/api/calls') {
    if (allow(['POST'])) await createCall(rest, req, res, url, null);
  } else if (agent !== null) {
    if (allow(['POST'])) await createCall(rest, req, res, url, decodeURIComponent(agent[1]!));
  } else if (send !== null) {
    if (allow(['POST'])) await sendDataMessage(rest, req, res, send[1]!);
  } else if (one !== null) {
    if (allow(['GET', 'DELETE'])) callResource(rest, res, one[1]!, method);
  } else {
    sendJson(res, 404, { detail: 'Not found.' });
  }
}

/** `GET` or `DELETE /api/calls/{id}` (deleting a live call ends it). */
function callResource(rest: Rest, res: ServerResponse, callId: string, method: string): void {
  const call = rest.registry.calls.get(callId);
  if (call === undefined) {
    sendJson(res, 404, { detail: 'Not found.' });
    return;
  }
  if (method === 'GET') {
    sendJson(res, 200, callView(call));
    return;
  }
  if (call.live !== null) call.live.end('hangup');
  else markEnded(call, 'unjoined');
  rest.registry.calls.delete(call.id);
  rest.registry.requests.delete(call.id);
  res.writeHead(204).end();
}

async function createCall(
  rest: Rest,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  agentId: string | null,
): Promise<void> {
  const raw = await readJson(req, res, rest.maxBodyBytes);
  if (raw === undefined) return;
  const body = effectiveBody(rest, raw as Record<string, unknown>, url, agentId);
  if ('status' in body) {
    sendJson(res, body.status, body.error);
    return;
  }
  const config = callConfig(body.request);
  const id = rest.newId();
  const call: EmulatedCall = {
    id,
    config,
    agentId,
    joinUrl: rest.joinUrl(id),
    created: new Date(),
    joined: null,
    ended: null,
    endReason: null,
    clientVersion: null,
    state: { ...config.initialState },
    live: null,
    joinTimer: null,
  };
  call.joinTimer = setTimeout(() => {
    if (call.joined === null) markEnded(call, 'unjoined');
  }, config.joinTimeoutMs);
  call.joinTimer.unref();
  forgetOldCalls(rest.registry);
  rest.registry.calls.set(id, call);
  rest.registry.requests.set(id, body.request);
  rest.log.info({ callId: id, agentId, socket: config.socket !== null }, 'ultravox call created');
  sendJson(res, 201, callView(call));
}

/**
 * The request a call runs with: the agent's template (agent calls) and the prior call's request (`priorCallId`),
 * with the validated body on top; or the error to answer.
 */
function effectiveBody(
  rest: Rest,
  raw: Record<string, unknown>,
  url: URL,
  agentId: string | null,
): { request: StartCallRequest } | { status: number; error: unknown } {
  let template: StartCallRequest = {};
  if (agentId !== null) {
    const found = rest.agents === null ? {} : rest.agents.get(agentId);
    if (found === undefined) return { status: 404, error: { detail: 'Not found.' } };
    template = found;
  }
  const priorCallId = url.searchParams.get('priorCallId');
  if (priorCallId !== null) {
    const prior = rest.registry.requests.get(priorCallId);
    if (prior === undefined) return { status: 404, error: { priorCallId: ['No call with this id.'] } };
    if (raw.initialMessages != null) {
      return {
        status: 400,
        error: { non_field_errors: ['priorCallId cannot be combined with initialMessages.'] },
      };
    }
    template = { ...prior, ...template };
  }
  if (agentId === null) {
    const parsed = startCallSchema.safeParse(raw);
    if (!parsed.success) return { status: 400, error: fieldErrors(parsed.error) };
    return { request: { ...template, ...parsed.data } };
  }
  const parsed = startAgentCallSchema.safeParse(raw);
  if (!parsed.success) return { status: 400, error: fieldErrors(parsed.error) };
  const merged = startCallSchema.safeParse(agentCallBody(template, parsed.data));
  if (!merged.success) return { status: 400, error: fieldErrors(merged.error) };
  return { request: merged.data };
}

async function sendDataMessage(
  rest: Rest,
  req: IncomingMessage,
  res: ServerResponse,
  callId: string,
): Promise<void> {
  const raw = await readJson(req, res, rest.maxBodyBytes);
  if (raw === undefined) return;
  const type = (raw as { type?: unknown }).type;
  const parsed = clientMessageSchema.safeParse(raw);
  if (typeof type !== 'string' || !REST_MESSAGE_TYPES.includes(type) || !parsed.success) {
    const detail = `The body must be a data message of type ${REST_MESSAGE_TYPES.join(', ')}.`;
    sendJson(res, 400, parsed.success ? { type: [detail] } : { ...fieldErrors(parsed.error), detail });
    return;
  }
  const call = rest.registry.calls.get(callId);
  if (call === undefined) return sendJson(res, 404, { detail: 'Not found.' });
  if (call.live === null)
    return sendJson(res, 422, { detail: 'The call is not active (not joined yet, or ended).' });
  call.live.deliver(parsed.data);
  res.writeHead(204).end();
}

/** The body as JSON (`{}` when empty), or undefined after answering 400/413. */
async function readJson(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      sendJson(res, 413, { detail: `The request body is larger than ${maxBytes} bytes.` });
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
    sendJson(res, 400, { non_field_errors: ['The body must be a JSON object.'] });
  } catch (err) {
    sendJson(res, 400, { detail: `JSON parse error - ${(err as Error).message}` });
  }
  return undefined;
}

function forgetOldCalls(registry: Registry): void {
  if (registry.calls.size < MAX_KEPT_CALLS) return;
  for (const [id, call] of registry.calls) {
    if (call.ended === null) continue;
    registry.calls.delete(id);
    registry.requests.delete(id);
    if (registry.calls.size < MAX_KEPT_CALLS) return;
  }
}
