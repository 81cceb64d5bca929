/**
 * A local, protocol-faithful OpenAI Realtime (GA) server on `/v1/realtime`, with a pluggable brain behind it.
 * The official `@openai/agents-realtime` client connects to it unchanged (docs/emulators.md).
 *
 * @example
 * ```ts
 * const emu = await startOpenAIRealtimeEmulator({ port: 0, brain: toneBrain() });
 * const session = new RealtimeSession(agent, { transport: new OpenAIRealtimeWebSocket({ url: emu.url }) });
 * await session.connect({ apiKey: 'sk-test' });
 * // …
 * await emu.close();
 * ```
 */
import type { IncomingMessage } from 'node:http';
import type { Brain } from '../agent/brain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { initVad } from '../agent/vad.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { initMedia } from '../media/index.js';
import { startEmulatorServer, type UpgradeDecision } from './harness.js';
import type { ParsedClientEvent } from './openaiRealtime/clientEvents.js';
import { CloseCodes, RealtimeConnection } from './openaiRealtime/connection.js';
import { createIdSource } from './openaiRealtime/protocol.js';
import { DEFAULT_MODEL } from './openaiRealtime/sessionConfig.js';

export interface OpenAIRealtimeEmulatorOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** What answers. Default: {@link toneBrain}. */
  readonly brain?: Brain;
  /**
   * The one API key accepted. Unset: any non-empty key is accepted (a key is still required, as by the service).
   */
  readonly apiKey?: string;
  /** Largest client message, bytes; bigger closes the socket with 1009. Default 16 MiB (the service's 15 MiB audio limit plus JSON). */
  readonly maxMessageBytes?: number;
  /** Most uncommitted input audio held, ms; an append past it gets `input_audio_buffer_full`. Default 120 000. */
  readonly maxInputBufferMs?: number;
  /** Close a session after this long without a client event: error `emulator_idle_timeout`, close 1000. 0 disables. Default 300 000. */
  readonly idleTimeoutMs?: number;
  /** Session length cap: error `session_expired`, close 1000. Default 3 600 000 (the service's 60 minutes). */
  readonly maxSessionMs?: number;
  /** Response audio is sent in deltas of this many ms. Default 100. */
  readonly audioChunkMs?: number;
  /** Response audio pace as a multiple of real time; `Infinity` = unpaced. Default 4. */
  readonly audioSpeed?: number;
  /** Offer permessage-deflate (the `ws` client asks for it). Default true. */
  readonly perMessageDeflate?: boolean;
  /** Seed for ids (`sess_…`, `item_…`), for reproducible runs. Default: random. */
  readonly idSeed?: number;
  readonly log?: Logger;
  /**
   * Tap for tests and tools: called with every valid client event (after validation, before handling). Must not
   * throw; it cannot change what the emulator does.
   */
  readonly onClientEvent?: (sessionId: string, event: OpenAIClientEvent) => void;
  /** Tap for tests and tools: called with every server event as it is sent. Must not throw. */
  readonly onServerEvent?: (sessionId: string, event: Readonly<Record<string, unknown>>) => void;
}

/** A validated client event, as the tap sees it. */
export type OpenAIClientEvent = ParsedClientEvent;

export interface OpenAIRealtimeEmulator {
  /** `ws://host:port/v1/realtime` (add `?model=…` or not: both work). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Sessions currently open. */
  readonly sessions: number;
  /** Closes every session (1001) and the listener. Idempotent. */
  close(): Promise<void>;
}

export const OPENAI_REALTIME_PATH = '/v1/realtime';

export const OPENAI_EMULATOR_DEFAULTS = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxInputBufferMs: 120_000,
  idleTimeoutMs: 300_000,
  maxSessionMs: 3_600_000,
  audioChunkMs: 100,
  audioSpeed: 4,
} as const;

export async function startOpenAIRealtimeEmulator(
  options: OpenAIRealtimeEmulatorOptions = {},
): Promise<OpenAIRealtimeEmulator> {
  const o = { ...OPENAI_EMULATOR_DEFAULTS, ...definedOnly(options) };
  checkOptions(o);
  // Once per emulator: the resampler and the turn detector's wasm (every session's detector needs it).
  await Promise.all([initMedia(), initVad()]);
  const log = options.log ?? createLogger({ component: 'emulator', vendor: 'openai' });
  const brain = options.brain ?? toneBrain();
  const newId = createIdSource(options.idSeed);
  const server = await startEmulatorServer({
    host: options.host,
    port: options.port,
    log,
    routes: [
      {
        path: OPENAI_REALTIME_PATH,
        maxMessageBytes: o.maxMessageBytes,
        perMessageDeflate: options.perMessageDeflate ?? true,
        selectProtocol: (offered) => (offered.has('realtime') ? 'realtime' : false),
        authorize: (req, url) => authorize(req, url, options.apiKey),
        onConnection: (ws, req, url) => {
          if (isBeta(req)) {
            // The service refuses the beta shape after the handshake, with close code 4000.
            const reason = 'invalid_request_error.beta_api_shape_disabled';
            ws.send(
              JSON.stringify({
                type: 'error',
                event_id: newId('event'),
                error: {
                  type: 'invalid_request_error',
                  code: 'beta_api_shape_disabled',
                  message:
                    'The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.',
                  param: null,
                  event_id: null,
                },
              }),
            );
            ws.close(CloseCodes.betaShape, reason);
            return;
          }
          new RealtimeConnection({
            ws,
            brain,
            model: url.searchParams.get('model') || DEFAULT_MODEL,
            newId,
            limits: {
              maxInputBufferMs: o.maxInputBufferMs,
              idleTimeoutMs: o.idleTimeoutMs,
              maxSessionMs: o.maxSessionMs,
            },
            pacing: { chunkMs: o.audioChunkMs, speed: o.audioSpeed },
            log,
            ...(options.onClientEvent === undefined ? {} : { onClientEvent: options.onClientEvent }),
            ...(options.onServerEvent === undefined ? {} : { onServerEvent: options.onServerEvent }),
          });
        },
      },
    ],
  });
  log.info({ port: server.port, brain: brain.name }, 'openai realtime emulator listening');
  return {
    url: `${server.wsUrl}${OPENAI_REALTIME_PATH}`,
    host: server.host,
    port: server.port,
    get sessions() {
      return server.openSockets;
    },
    close: () => server.close(),
  };
}

function authorize(req: IncomingMessage, url: URL, expected: string | undefined): UpgradeDecision {
  if (url.searchParams.has('call_id') || url.searchParams.get('intent') === 'transcription') {
    return refuse(
      400,
      'unsupported_by_emulator',
      'The emulator supports model sessions only (no call_id, no intent=transcription).',
    );
  }
  const key = apiKeyOf(req);
  if (key === undefined || key === '') {
    return refuse(
      401,
      'missing_api_key',
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
  }
  if (expected !== undefined && key !== expected) {
    return refuse(401, 'invalid_api_key', 'Incorrect API key provided.');
  }
  return { accept: true };
}

function refuse(status: number, code: string, message: string): UpgradeDecision {
  return {
    accept: false,
    status,
    body: { error: { message, type: 'invalid_request_error', param: null, code } },
  };
}

/** `Authorization: Bearer <key>`, or the browser form: subprotocol `openai-insecure-api-key.<key>`. */
function apiKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m?.[1]?.trim();
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols === undefined) return undefined;
  for (const p of protocols.split(',')) {
    const t = p.trim();
    if (t.startsWith('openai-insecure-api-key.')) return t.slice('openai-insecure-api-key.'.length);
  }
  return undefined;
}

function isBeta(req: IncomingMessage): boolean {
  const header = req.headers['openai-beta'];
  const protocols = req.headers['sec-websocket-protocol'] ?? '';
  return (
    (typeof header === 'string' && header.includes('realtime=v1')) ||
    protocols.includes('openai-beta.realtime-v1')
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(
  o: typeof OPENAI_EMULATOR_DEFAULTS | Record<keyof typeof OPENAI_EMULATOR_DEFAULTS, number>,
): void {
  const positive: (keyof typeof OPENAI_EMULATOR_DEFAULTS)[] = [
    'maxMessageBytes',
    'maxInputBufferMs',
    'maxSessionMs',
    'audioChunkMs',
    'audioSpeed',
  ];
  for (const key of positive) {
    if (!(o[key] > 0))
      throw new ConfigError(`emulator option ${key} must be a positive number, got ${o[key]}`);
  }
  if (!(o.idleTimeoutMs >= 0))
    throw new ConfigError(`emulator option idleTimeoutMs must be >= 0 (0 disables), got ${o.idleTimeoutMs}`);
  if (o.audioChunkMs < 10)
    throw new ConfigError(`emulator option audioChunkMs must be at least 10, got ${o.audioChunkMs}`);
}
