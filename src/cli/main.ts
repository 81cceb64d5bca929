import { readFileSync } from 'node:fs';

/** A subcommand: gets its own argv (after the command name) and returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;

/** One line per subcommand; each loads lazily, so `voxgate --help` loads none of them. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'start the API and call sockets', load: async () => (await import('./serve.js')).serve },
  call: { summary: 'place a test call with a WAV file', load: async () => (await import('./call.js')).call },
  emulate: {
    summary: 'run a local OpenAI Realtime server',
    load: async () => (await import('./emulate.js')).emulate,
  },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    `voxgate ${version()} — self-hosted voice-AI gateway`,
    '',
    'Usage: voxgate <command> [options]',
    '',
    'Commands:',
    ...(lines.length > 0 ? lines : ['  (none yet)']),
    '',
    'Options:',
    '  -h, --help     show this help (or `voxgate <command> --help`)',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands[first];
  if (command === undefined) {
    process.stderr.write(`voxgate: unknown command '${first}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest);
}
