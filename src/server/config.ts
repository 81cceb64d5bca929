import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The server's configuration: one zod schema with safe defaults, filled from (lowest first) defaults, an optional
 * JSON config file, environment variables and command-line flags. Every problem is reported at start, naming the
 * field and where its value came from, and saying how to fix it.
 */

const ms = (max: number) => z.number().int().min(0).max(max);

export const limitsSchema = z.object({
  /** Calls queued or in progress at once; `POST /call` answers 429 past it. */
  maxCalls: z.number().int().min(1).max(100_000).default(100),
  /** Largest binary audio or text control message on a call socket; larger ones are refused with an error. */
  maxFrameBytes: z
    .number()
    .int()
    .min(320)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** Hard cap on one WebSocket message: the socket is closed with 1009 past it. */
  maxSocketMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** Largest HTTP request body. */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /** Outbound audio is dropped while a caller's socket holds more unsent bytes than this. */
  maxOutboundBufferedBytes: z
    .number()
    .int()
    .min(4096)
    .max(64 * 1024 * 1024)
    .default(256 * 1024),
  /** Ended calls kept for `GET /call` and `GET /call/:id`. */
  callHistory: z.number().int().min(0).max(1_000_000).default(1000),
});

export const timeoutsSchema = z.object({
  /** How long a `websocketCallUrl` may go unused before the call ends (`customer-did-not-answer`). */
  tokenTtlMs: ms(3_600_000).min(100).default(60_000),
  /** A call whose caller sends nothing (no audio, no message) this long is ended (`idle-timeout`); 0 = never. */
  idleMs: ms(86_400_000).default(120_000),
  /** After the caller asks for speech (`say`, `add-message`), a `hang` message if no reply audio comes this soon. */
  hangNoticeMs: ms(600_000).min(100).default(5000),
  /** On shutdown, how long calls get to end cleanly before their sockets are cut. */
  shutdownGraceMs: ms(600_000).default(5000),
});

export const assistantSchema = z.object({
  /** The scenario this assistant runs: a file path or a built-in name. */
  scenario: z.string().min(1),
});

/** What answers calls that run the default scenario (docs/api.md, "Agents"). */
export const AGENTS = ['local', 'openai', 'ultravox', 'ultravox-local', 'echo'] as const;
export type AgentName = (typeof AGENTS)[number];

const httpUrl = z.url({ protocol: /^(https?|wss?)$/, error: 'must be an http(s):// or ws(s):// URL' });

export const openaiSchema = z.object({
  /** `OPENAI_API_KEY`. Never printed or logged. */
  apiKey: z.string().min(1).optional(),
  /** `OPENAI_BASE_URL`: where the Realtime API is. */
  baseUrl: httpUrl.default('https://api.openai.com/'),
  /** `OPENAI_MODEL`: the Realtime model; the client's default (`gpt-realtime`) when unset. */
  model: z.string().min(1).optional(),
});

export const ultravoxSchema = z.object({
  /** `ULTRAVOX_API_KEY`. Never printed or logged. */
  apiKey: z.string().min(1).optional(),
  /** `ULTRAVOX_BASE_URL`: the Ultravox REST API; the connector's default when unset. */
  baseUrl: httpUrl.optional(),
});

export const serverConfigSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** The API key callers send as `Authorization: Bearer <key>`. Without one the server is open. */
  apiKey: z.string().min(8, 'an API key needs at least 8 characters').optional(),
  /** Allows a non-loopback host without an API key. */
  insecure: z.boolean().default(false),
  /** The base URL clients reach this server at (behind a proxy): `websocketCallUrl` is built from it. */
  publicUrl: z
    .url({ protocol: /^(https?|wss?)$/, error: 'must be an http(s):// or ws(s):// URL' })
    .optional(),
  /** The scenario every call runs unless its assistant says otherwise: a file path or a built-in name. */
  scenario: z.string().min(1).default('default'),
  /** `assistantId` → what that assistant runs. An unknown `assistantId` runs the default scenario. */
  assistants: z.record(z.string(), assistantSchema).default({}),
  /**
   * The agent behind the `default` scenario: `local` (the local agent through an in-process OpenAI Realtime
   * server), `openai`, `ultravox`, `ultravox-local`, or `echo`. Unset: `openai` when an OpenAI key is set, else
   * `ultravox` when an Ultravox key is, else `local`.
   */
  agent: z.enum(AGENTS, { error: `must be one of ${AGENTS.join(', ')}` }).optional(),
  openai: openaiSchema.default(openaiSchema.parse({})),
  ultravox: ultravoxSchema.default(ultravoxSchema.parse({})),
  limits: limitsSchema.default(limitsSchema.parse({})),
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
});

/** The parsed configuration; `agent` is always settled (see {@link defaultAgent}). */
export type ServerConfig = z.infer<typeof serverConfigSchema> & { agent: AgentName };
/** What `createServer` accepts: every field optional, defaults filled in. */
export type ServerConfigInput = z.input<typeof serverConfigSchema>;

/** Parses a config object (already merged), with messages naming each bad field. */
export function parseServerConfig(input: unknown, sources: Map<string, string> = new Map()): ServerConfig {
  const result = serverConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const from = sources.get(path);
      return `  ${path || '(config)'}: ${issue.message}${from === undefined ? '' : ` (from ${from})`}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, {
      details: { fields: result.error.issues.map((i) => i.path.join('.')) },
    });
  }
  const config: ServerConfig = { ...result.data, agent: result.data.agent ?? defaultAgent(result.data) };
  checkAgent(config, sources);
  if (!isLoopback(config.host) && config.apiKey === undefined && !config.insecure) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without an API key: anyone who can reach it could place calls.\n` +
        '  Set an API key (--key or VOXGATE_API_KEY), listen on 127.0.0.1, or pass --insecure to accept the risk.',
    );
  }
  return config;
}

/** With no agent configured: OpenAI when its key is set, else Ultravox when its key is, else the local agent. */
export function defaultAgent(config: {
  openai: { apiKey?: string | undefined };
  ultravox: { apiKey?: string | undefined };
}): AgentName {
  if (config.openai.apiKey !== undefined) return 'openai';
  if (config.ultravox.apiKey !== undefined) return 'ultravox';
  return 'local';
}

/** A cloud agent needs its key. The messages name the variable, never a value. */
function checkAgent(config: ServerConfig, sources: Map<string, string>): void {
  const from = sources.get('agent');
  const chosen = `agent '${config.agent}'${from === undefined ? '' : ` (from ${from})`}`;
  if (config.agent === 'openai' && config.openai.apiKey === undefined) {
    throw new ConfigError(
      `${chosen} needs an OpenAI API key: set OPENAI_API_KEY (or openai.apiKey in the config file), ` +
        'or pick another agent (--agent local runs the local agent, no key needed).',
      { details: { fields: ['openai.apiKey'] } },
    );
  }
  if (config.agent === 'ultravox' && config.ultravox.apiKey === undefined) {
    throw new ConfigError(
      `${chosen} needs an Ultravox API key: set ULTRAVOX_API_KEY (or ultravox.apiKey in the config file), ` +
        'or pick another agent (--agent local runs the local agent, no key needed).',
      { details: { fields: ['ultravox.apiKey'] } },
    );
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One settable field: its path in the config, its env variable and flag, and how to read a string. */
interface Setting {
  path: string;
  env?: string;
  flag?: string;
  kind: 'string' | 'int' | 'bool';
}

/** Fields settable from the environment and the command line. Everything is settable in the config file. */
export const SETTINGS: readonly Setting[] = [
  { path: 'host', env: 'VOXGATE_HOST', flag: 'host', kind: 'string' },
  { path: 'port', env: 'VOXGATE_PORT', flag: 'port', kind: 'int' },
  { path: 'apiKey', env: 'VOXGATE_API_KEY', flag: 'key', kind: 'string' },
  { path: 'insecure', env: 'VOXGATE_INSECURE', flag: 'insecure', kind: 'bool' },
  { path: 'publicUrl', env: 'VOXGATE_PUBLIC_URL', flag: 'public-url', kind: 'string' },
  { path: 'scenario', env: 'VOXGATE_SCENARIO', flag: 'scenario', kind: 'string' },
  { path: 'agent', env: 'VOXGATE_AGENT', flag: 'agent', kind: 'string' },
  { path: 'openai.apiKey', env: 'OPENAI_API_KEY', kind: 'string' },
  { path: 'openai.baseUrl', env: 'OPENAI_BASE_URL', kind: 'string' },
  { path: 'openai.model', env: 'OPENAI_MODEL', kind: 'string' },
  { path: 'ultravox.apiKey', env: 'ULTRAVOX_API_KEY', kind: 'string' },
  { path: 'ultravox.baseUrl', env: 'ULTRAVOX_BASE_URL', kind: 'string' },
  { path: 'limits.maxCalls', env: 'VOXGATE_MAX_CALLS', flag: 'max-calls', kind: 'int' },
  { path: 'timeouts.tokenTtlMs', env: 'VOXGATE_TOKEN_TTL_MS', kind: 'int' },
  { path: 'timeouts.idleMs', env: 'VOXGATE_IDLE_TIMEOUT_MS', kind: 'int' },
];

/** Reads a string as the setting's kind; a value that does not read stays a string so the schema names it. */
function coerce(kind: Setting['kind'], raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  if (kind === 'int') return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (kind === 'bool') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    return raw;
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}

export interface ConfigSources {
  /** Parsed flags, by flag name (`port`, `key`, ...), as strings or booleans. */
  flags?: Record<string, string | boolean | undefined>;
  env?: NodeJS.ProcessEnv;
  /** A JSON config file; `flags.config` or `VOXGATE_CONFIG` name it when this is absent. */
  file?: string;
}

/** Merges defaults ← config file ← environment ← flags and validates the result. Throws a ConfigError. */
export function resolveServerConfig(sources: ConfigSources = {}): ServerConfig {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const fileFlag = flags.config;
  const file = sources.file ?? (typeof fileFlag === 'string' ? fileFlag : undefined) ?? env.VOXGATE_CONFIG;
  if (file !== undefined && file !== '') {
    const fromFile = readConfigFile(file);
    Object.assign(merged, fromFile);
    for (const path of leafPaths(fromFile)) origin.set(path, `config file ${file}`);
  }
  for (const s of SETTINGS) {
    const raw = s.env === undefined ? undefined : env[s.env];
    if (raw !== undefined && raw !== '') {
      setPath(merged, s.path, coerce(s.kind, raw));
      origin.set(s.path, s.env!);
    }
  }
  for (const s of SETTINGS) {
    const raw = s.flag === undefined ? undefined : flags[s.flag];
    if (raw !== undefined) {
      setPath(merged, s.path, coerce(s.kind, raw));
      origin.set(s.path, `--${s.flag}`);
    }
  }
  return parseServerConfig(merged, origin);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  return json as Record<string, unknown>;
}
