import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectRecognizer } from '../agent/recognizer.js';
import { ErrorCodes } from '../errors.js';
import { httpError, type RequestContext, type Route, sendJson } from './http.js';

/**
 * The browser pages (`web/`, docs/softphone.md): the softphone at `/`, the call view at `/calls` and
 * `/calls/:id`, their scripts and styles at `/web/<name>`, and `GET /info`, what the softphone shows about the
 * agent. Pages and assets are open (they hold no data; the pages ask for the API key when the server has one);
 * `/info` needs the key like the rest of the API.
 *
 * Safety: no request path ever becomes a file path. The files are the plain files directly in `web/` whose names
 * match {@link NAME} and whose extension has a type below, read once on first use; a request names one of them
 * or gets 404. Responses carry a strong ETag and `no-cache` (revalidate: the names are not versioned), `nosniff`,
 * and on pages a strict Content-Security-Policy (same-origin scripts and styles, nothing external).
 */

const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** A servable file name: one segment, no leading dot, no `..`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    // The call socket may be on the public URL's host (behind a proxy), so any ws/wss origin.
    "connect-src 'self' ws: wss:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'microphone=(self), camera=(), geolocation=()',
  'x-frame-options': 'DENY',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
}

export interface WebRoutesOptions {
  /** What the server's default scenario is (the start banner's line). */
  describeScenario: () => string;
  /** The configured default scenario's name. */
  scenario: string;
  /** Where the files are; default the package's `web/`. */
  root?: string;
}

export function webRoutes(options: WebRoutesOptions): Route[] {
  const files = new WebFiles(options.root ?? WEB_ROOT);
  const page =
    (name: string) =>
    ({ req, res }: RequestContext): Promise<void> =>
      files.send(name, req.headers['if-none-match'], res);
  return [
    { method: 'GET', path: '/', auth: false, handler: page('index.html') },
    { method: 'GET', path: '/calls', auth: false, handler: page('calls.html') },
    { method: 'GET', path: '/calls/:id', auth: false, handler: page('calls.html') },
    {
      method: 'GET',
      path: '/web/:file',
      auth: false,
      handler: ({ req, res, params }) => files.send(params.file!, req.headers['if-none-match'], res),
    },
    { method: 'GET', path: '/info', auth: true, handler: ({ res }) => sendJson(res, 200, info(options)) },
  ];
}

/** `GET /info`: the scenario and whether the local agent can recognise speech on this machine. */
function info(options: WebRoutesOptions): Record<string, unknown> {
  const recognizer = detectRecognizer();
  return {
    scenario: options.scenario,
    agent: options.describeScenario(),
    recognition: { available: recognizer.available, reason: recognizer.reason },
  };
}

class WebFiles {
  readonly #root: string;
  #files: Promise<Map<string, WebFile>> | null = null;

  constructor(root: string) {
    this.#root = root;
  }

  async send(name: string, ifNoneMatch: string | undefined, res: RequestContext['res']): Promise<void> {
    const file = (await this.#load()).get(name);
    if (file === undefined) throw httpError(ErrorCodes.NOT_FOUND, 404, 'no such page or file');
    const headers: Record<string, string> = {
      'content-type': file.type,
      'cache-control': 'no-cache',
      etag: file.etag,
      'x-content-type-options': 'nosniff',
      ...(name.endsWith('.html') ? PAGE_HEADERS : {}),
    };
    if (ifNoneMatch?.split(/\s*,\s*/).includes(file.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(file.body.length) });
    res.end(file.body);
  }

  /** Reads every servable file once; a missing `web/` serves nothing (404s) rather than failing the server. */
  #load(): Promise<Map<string, WebFile>> {
    this.#files ??= readAll(this.#root);
    return this.#files;
  }
}

async function readAll(root: string): Promise<Map<string, WebFile>> {
  const files = new Map<string, WebFile>();
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const type = TYPES[extname(entry.name).toLowerCase()];
    if (!entry.isFile() || type === undefined || !NAME.test(entry.name)) continue;
    const body = await readFile(join(root, entry.name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(entry.name, { body, type, etag });
  }
  return files;
}
