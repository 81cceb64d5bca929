import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { VoxgateError } from '../errors.js';
import { isLoopback, resolveServerConfig } from '../server/config.js';
import { createServer } from '../server/server.js';

const USAGE = `Usage: voxgate serve [options]

Starts the HTTP API and the call WebSockets. Every call runs the configured scenario.

Options (flag, environment variable):
  --port N           VOXGATE_PORT         port to listen on (default 8080; 0 picks a free one)
  --host H           VOXGATE_HOST         address to bind (default 127.0.0.1)
  --key K            VOXGATE_API_KEY      API key clients send as "Authorization: Bearer K"
  --scenario S       VOXGATE_SCENARIO     scenario file, or a built-in name: default, echo (default: default)
  --agent A          VOXGATE_AGENT        who answers in the default scenario: local, openai, ultravox,
                                          ultravox-local, echo (default: openai with OPENAI_API_KEY, ultravox
                                          with ULTRAVOX_API_KEY, else local: the local agent, no key, no network)
  --public-url U     VOXGATE_PUBLIC_URL   base URL clients use (behind a proxy); call URLs are built from it
  --max-calls N      VOXGATE_MAX_CALLS    calls at once (default 100)
  --config FILE      VOXGATE_CONFIG       JSON config file (every setting; see docs/api.md)
  --insecure         VOXGATE_INSECURE=1   allow a non-loopback --host without an API key
  -h, --help                              show this help

Provider settings (environment; keys are never printed or logged):
  OPENAI_API_KEY, OPENAI_BASE_URL (default https://api.openai.com/), OPENAI_MODEL
  ULTRAVOX_API_KEY, ULTRAVOX_BASE_URL

Precedence: flags, then environment, then the config file, then defaults.
`;

export async function serve(argv: string[]): Promise<number> {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        key: { type: 'string' },
        scenario: { type: 'string' },
        agent: { type: 'string' },
        'public-url': { type: 'string' },
        'max-calls': { type: 'string' },
        config: { type: 'string' },
        insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`voxgate serve: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  let server: ReturnType<typeof createServer>;
  let url: string;
  try {
    const config = resolveServerConfig({ flags, env: process.env });
    server = createServer(config);
    url = await server.listen();
  } catch (err) {
    process.stderr.write(`voxgate serve: ${startError(err)}\n`);
    return 1;
  }
  process.stdout.write(banner(url, server));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`voxgate serve: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      const n = server.liveCalls.size;
      process.stdout.write(`\n${signal}: stopping; ending ${n} call${n === 1 ? '' : 's'}…\n`);
      server.close().then(
        () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stdout.write('stopped\n');
          resolve(0);
        },
        (err: unknown) => {
          process.stderr.write(`voxgate serve: shutdown failed: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function startError(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return 'that port is already in use: stop the other server or pick another with --port';
  if (code === 'EACCES') return 'not allowed to listen on that port: use a port above 1023 (--port)';
  if (code === 'EADDRNOTAVAIL') return 'that address is not on this machine: check --host';
  if (err instanceof VoxgateError) return `${err.message} [${err.code}]`;
  return (err as Error).message;
}

function banner(url: string, server: ReturnType<typeof createServer>): string {
  const { config } = server;
  const asset = fileURLToPath(new URL('../../assets/hello.wav', import.meta.url));
  const shownAsset = existsSync(asset) ? relative(process.cwd(), asset) || asset : 'speech.wav';
  const keyFlag = config.apiKey === undefined ? '' : ' --key "$VOXGATE_API_KEY"';
  const auth =
    config.apiKey === undefined
      ? `none: anyone who can reach ${config.host} can place calls${isLoopback(config.host) ? ' (loopback only)' : ''}`
      : 'API key required (Authorization: Bearer <key>)';
  const agent = server.agent;
  const recognition = agent?.describeRecognition();
  return [
    `voxgate listening on ${url}`,
    `  scenario:    ${server.describeScenario()}`,
    ...(agent === null ? [] : [`  agent:       ${agent.describe()}`]),
    ...(recognition === undefined ? [] : [`  recognition: ${recognition}`]),
    `  auth:        ${auth}`,
    `  API:         POST ${url}/call (Vapi's WebSocket transport; see docs/api.md), GET ${url}/metrics`,
    '',
    'Place a test call from another terminal:',
    `  npx voxgate call --server ${url}${keyFlag} --in ${shownAsset} --out reply.wav`,
    '',
    'Ctrl+C stops the server (calls end with "server-shutdown").',
    '',
  ].join('\n');
}
