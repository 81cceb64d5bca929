/**
 * A local, protocol-faithful Ultravox server: the REST calls that create calls (`POST /api/calls`,
 * `POST /api/agents/{agentId}/calls`, with `X-API-Key`) and the `serverWebSocket` join socket each call's
 * `joinUrl` points at, with a pluggable brain behind it (the same seam as the OpenAI Realtime emulator).
 * spec/ultravox.md §9 lists what it does; docs/ultravox.md how to use it.
 *
 * @example
 * ```ts
 * const emu = await startUltravoxEmulator({ port: 0, brain: toneBrain() });
 * const client = await Ultravox.createWebSocketAPIClient({
 *   endpoint: Ultravox.HTTPEndpoint.CREATE_CALL,
 *   authorizations: { 'X-API-Key': 'any' },
 *   baseUrl: emu.baseUrl,
 *   body: { systemPrompt: 'Be brief.' },
 * });
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Brain } from '../agent/brain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { initVad } from '../agent/vad.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { initMedia } from '../media/index.js';
import { type EmulatorServer, sendJson, startEmulatorServer } from './harness.js';
import { CallSession } from './ultravox/callSession.js';
import { callView } from './ultravox/calls.js';
import { fieldErrors, type StartCallRequest, startCallSchema } from './ultravox/requests.js';
import { authorizeJoin, handleRest, JOIN_PATH, type Registry, type Rest } from './ultravox/rest.js';

export interface UltravoxEmulatorOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** What answers. Default: {@link toneBrain}. */
  readonly brain?: Brain;
  /** The one `X-API-Key` accepted. Unset: any non-empty key (a key is still required, as by the service). */
  readonly apiKey?: string;
  /**
   * Agents by id: each a `StartCallRequest` template (systemPrompt, selectedTools, ...) that agent calls start
   * from. Unset: any agent id is accepted, with the defaults.
   */
  readonly agents?: Readonly<Record<string, Record<string, unknown>>>;
  /** Largest join-socket message, bytes; bigger closes the socket with 1009. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest REST body, bytes (413 past it). Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Longest user turn held, ms; a longer one is cut into turns. Default 60 000. */
  readonly maxInputBufferMs?: number;
  /** Agent audio leaves in chunks of this many ms. Default 20. */
  readonly audioChunkMs?: number;
  /** Seed for call and invocation ids (UUIDs), for reproducible runs. Default: random. */
  readonly idSeed?: number;
  readonly log?: Logger;
  /** Tap for tests and tools: every join-socket text message that is a JSON object, before validation. */
  readonly onClientMessage?: (callId: string, message: Record<string, unknown>) => void;
}

export interface UltravoxEmulator {
  /** `http://host:port`: the connector's `baseUrl`, and where `/api/...` lives. */
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  /** Calls joined and not yet ended. */
  readonly activeCalls: number;
  /** A call's `Call` object, as `GET /api/calls/{id}` shows it. */
  call(callId: string): Record<string, unknown> | undefined;
  /** Closes every join socket (1001) and the listener. Idempotent. */
  close(): Promise<void>;
}

export const ULTRAVOX_EMULATOR_DEFAULTS = {
  maxMessageBytes: 1 << 20,
  maxBodyBytes: 1 << 20,
  maxInputBufferMs: 60_000,
  audioChunkMs: 20,
} as const;

export async function startUltravoxEmulator(
  options: UltravoxEmulatorOptions = {},
): Promise<UltravoxEmulator> {
  const o = { ...ULTRAVOX_EMULATOR_DEFAULTS, ...definedOnly(options) };
  checkOptions(o);
  const agents = agentTemplates(options.agents);
  // Once per emulator: the resampler and the turn detector's wasm (every session's detector needs it).
  await Promise.all([initMedia(), initVad()]);
  const log = options.log ?? createLogger({ component: 'emulator', vendor: 'ultravox' });
  const brain = options.brain ?? toneBrain();
  const newId = uuidSource(options.idSeed);
  const registry: Registry = { calls: new Map(), requests: new Map() };
  const join: JoinDeps = {
    brain,
    newId,
    chunkMs: o.audioChunkMs,
    maxInputBufferMs: o.maxInputBufferMs,
    log,
    onClientMessage: options.onClientMessage,
  };
  let server: EmulatorServer | null = null;
  const rest: Rest = {
    registry,
    apiKey: options.apiKey,
    agents,
    maxBodyBytes: o.maxBodyBytes,
    newId,
    joinUrl: (id: string) => `${server!.wsUrl}/calls/${id}/join`,
    log,
  };
  server = await startEmulatorServer({
    host: options.host,
    port: options.port,
    log,
    onRequest: (req, res, url) => {
      if (!url.pathname.startsWith('/api/')) return false;
      handleRest(rest, req, res, url).catch((err: unknown) => {
        log.error({ err }, 'ultravox emulator request failed');
        if (!res.headersSent) sendJson(res, 500, { detail: 'The emulator failed.' });
      });
      return true;
    },
    routes: [
      {
        path: '/calls/',
        prefix: true,
        maxMessageBytes: o.maxMessageBytes,
        authorize: (_req, url) => authorizeJoin(registry, url),
        onConnection: (ws, _req, url) => joinCall(registry, ws, url, join),
      },
    ],
  });
  log.info({ port: server.port, brain: brain.name }, 'ultravox emulator listening');
  const s = server;
  return {
    baseUrl: s.httpUrl,
    host: s.host,
    port: s.port,
    get activeCalls() {
      let n = 0;
      for (const c of registry.calls.values()) if (c.live !== null) n++;
      return n;
    },
    call: (id) => {
      const call = registry.calls.get(id);
      return call === undefined ? undefined : callView(call);
    },
    close: () => {
      for (const call of registry.calls.values()) if (call.joinTimer !== null) clearTimeout(call.joinTimer);
      return s.close();
    },
  };
}

interface JoinDeps {
  readonly brain: Brain;
  readonly newId: () => string;
  readonly chunkMs: number;
  readonly maxInputBufferMs: number;
  readonly log: Logger;
  readonly onClientMessage: UltravoxEmulatorOptions['onClientMessage'];
}

/** A join socket was accepted (authorizeJoin said yes): the call is joined and its session starts. */
function joinCall(registry: Registry, ws: WebSocket, url: URL, deps: JoinDeps): void {
  const call = registry.calls.get(JOIN_PATH.exec(url.pathname)?.[1] ?? '');
  const socket = call?.config.socket;
  // A second socket may have passed authorizeJoin before the first one joined.
  if (call === undefined || socket == null || call.joined !== null || call.ended !== null) {
    ws.close(1008, 'call not joinable');
    return;
  }
  call.joined = new Date();
  if (call.joinTimer !== null) clearTimeout(call.joinTimer);
  call.joinTimer = null;
  call.clientVersion = url.searchParams.get('clientVersion');
  const experimental = (url.searchParams.get('experimentalMessages') ?? '').split(',');
  call.live = new CallSession({
    ws,
    call,
    socket,
    brain: deps.brain.openSession({ sessionId: call.id }),
    newId: deps.newId,
    chunkMs: deps.chunkMs,
    maxInputBufferMs: deps.maxInputBufferMs,
    debug: experimental.includes('debug'),
    log: deps.log,
    onClientMessage: deps.onClientMessage,
  });
}

// --- options -----------------------------------------------------------------------------------------------------

function agentTemplates(
  agents: UltravoxEmulatorOptions['agents'],
): ReadonlyMap<string, StartCallRequest> | null {
  if (agents === undefined) return null;
  const out = new Map<string, StartCallRequest>();
  for (const [id, template] of Object.entries(agents)) {
    const parsed = startCallSchema.safeParse(template);
    if (!parsed.success) {
      const problems = Object.entries(fieldErrors(parsed.error)).map(([k, v]) => `${k}: ${v.join(', ')}`);
      throw new ConfigError(`emulator agent '${id}' has an invalid call template (${problems.join('; ')})`);
    }
    out.set(id, parsed.data);
  }
  return out;
}

function checkOptions(o: Record<keyof typeof ULTRAVOX_EMULATOR_DEFAULTS, number>): void {
  for (const key of Object.keys(ULTRAVOX_EMULATOR_DEFAULTS) as (keyof typeof ULTRAVOX_EMULATOR_DEFAULTS)[]) {
    if (!(o[key] > 0))
      throw new ConfigError(`emulator option ${key} must be a positive number, got ${o[key]}`);
  }
  if (o.audioChunkMs < 10 || !Number.isInteger(o.audioChunkMs))
    throw new ConfigError(
      `emulator option audioChunkMs must be an integer of at least 10, got ${o.audioChunkMs}`,
    );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** UUIDs: random, or from a seeded generator (mulberry32) for reproducible runs. */
function uuidSource(seed: number | undefined): () => string {
  if (seed === undefined) return randomUUID;
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return () => {
    const bytes = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) bytes.writeUInt32BE(next(), i);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const h = bytes.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}
