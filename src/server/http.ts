import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, ProtocolError, VoxgateError } from '../errors.js';

/**
 * Small HTTP helpers over `node:http`: a route table, bounded JSON bodies and JSON replies. Error bodies follow
 * Vapi's (NestJS) shape `{statusCode, error, message}` plus voxgate's stable `code` and `details`.
 */

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters by name (`:id` → `params.id`). */
  params: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Segments; `:name` captures one. */
  path: string;
  /** False for routes open without the API key. */
  auth: boolean;
  handler: Handler;
}

interface CompiledRoute extends Route {
  segments: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class RouteTable {
  readonly #routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((r) => ({ ...r, segments: r.path.split('/').filter(Boolean) }));
  }

  /** The route for `method` and `path`; `methods` lists what the path allows when the method does not match. */
  match(method: string, path: string): RouteMatch | { methods: string[] } | null {
    const parts = path.split('/').filter(Boolean);
    const methods: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (params === null) continue;
      if (route.method === method) return { route, params };
      methods.push(route.method);
    }
    return methods.length > 0 ? { methods } : null;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        return null;
      }
    } else if (p !== part) return null;
  }
  return params;
}

/** Reads a JSON body of at most `maxBytes`; an empty body reads as `{}`. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw bodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw bodyTooLarge(maxBytes);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProtocolError(ErrorCodes.BAD_JSON, 'the body is not valid JSON');
  }
}

function bodyTooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError(ErrorCodes.BODY_TOO_LARGE, `the body is over the limit of ${maxBytes} bytes`, {
    status: 413,
    details: { limit: maxBytes },
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** The JSON error body for `error` (internal errors say nothing about their cause). */
export function errorBody(error: VoxgateError): Record<string, unknown> {
  const status = error.status ?? 500;
  const body: Record<string, unknown> = {
    statusCode: status,
    error: statusText(status),
    code: error.code,
    message: status >= 500 ? 'internal error' : error.message,
  };
  if (error.details !== undefined && status < 500) body.details = error.details;
  return body;
}

export function sendError(
  res: ServerResponse,
  error: VoxgateError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, error.status ?? 500, errorBody(error), headers);
}

export function httpError(
  code: VoxgateError['code'],
  status: number,
  message: string,
  details?: Record<string, unknown>,
): VoxgateError {
  return new VoxgateError(code, message, details === undefined ? { status } : { status, details });
}
