import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Brain, BrainAudio } from '../agent/brain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { startOpenAIRealtimeEmulator } from '../emulators/openaiRealtime.js';
import { startUltravoxEmulator } from '../emulators/ultravox.js';
import { VoxgateError } from '../errors.js';
import { alawDecode, ulawDecode } from '../media/g711.js';
import { pcm16View } from '../media/pcm.js';
import { parseWav } from '../media/wav.js';

const USAGE = `Usage: voxgate emulate openai|ultravox [options]

openai: a local OpenAI Realtime (GA) server on ws://HOST:PORT/v1/realtime. Point a client at it with
  new OpenAIRealtimeWebSocket({ url: 'ws://HOST:PORT/v1/realtime?model=gpt-realtime' })
and any API key (or the one given with --key).
ultravox: a local Ultravox server on http://HOST:PORT (POST /api/calls, POST /api/agents/ID/calls, and the
serverWebSocket joinUrl). Point the connector at it with ULTRAVOX_BASE_URL=http://HOST:PORT (docs/ultravox.md).

Options:
  --host H          address to bind (default 127.0.0.1)
  --port N          port (default 8787 for openai, 8788 for ultravox; 0 picks a free one)
  --brain B         what answers: tone (default: a tone and a transcript, get_weather on "weather in <city>")
                    or local (the local agent: recognition, dialogue rules, speech; docs/agent.md)
  --wav FILE        the tone brain plays this WAV instead of a tone (e.g. assets/hello.wav)
  --key K           accept only this API key (default: any non-empty key)
  --speed X         openai: response audio pace, multiple of real time (default 4)
  --idle-timeout S  openai: close sessions idle for S seconds (default 300; 0 = never)
  -h, --help        show this help
`;

/** Brains by name; each loads lazily. `close` is called on shutdown when the brain has one. */
const BRAINS: Record<string, (wav: BrainAudio | undefined) => Promise<Brain & { close?(): unknown }>> = {
  tone: async (clip) => toneBrain(clip === undefined ? {} : { clip }),
  local: async () => {
    const { localBrain } = await import('../agent/localBrain.js');
    const brain = localBrain();
    await brain.warmUp();
    return brain;
  },
};

export async function emulate(argv: string[]): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        brain: { type: 'string' },
        wav: { type: 'string' },
        key: { type: 'string' },
        speed: { type: 'string' },
        'idle-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`voxgate emulate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const flags = parsed.values;
  if (flags.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [vendor, ...extra] = parsed.positionals;
  if ((vendor !== 'openai' && vendor !== 'ultravox') || extra.length > 0) {
    process.stderr.write(
      `voxgate emulate: expected 'openai' or 'ultravox'${vendor === undefined ? '' : `, got '${parsed.positionals.join(' ')}'`}\n\n${USAGE}`,
    );
    return 2;
  }
  const makeBrain = BRAINS[String(flags.brain ?? 'tone')];
  const port = numberFlag(flags.port, vendor === 'ultravox' ? 8788 : 8787);
  const speed = numberFlag(flags.speed, 4);
  const idle = numberFlag(flags['idle-timeout'], 300);
  if (makeBrain === undefined || port === undefined || speed === undefined || idle === undefined) {
    process.stderr.write(
      `voxgate emulate: bad option value (brains: ${Object.keys(BRAINS).join(', ')})\n\n${USAGE}`,
    );
    return 2;
  }
  let emulator: { close(): Promise<void> };
  let banner: string;
  let brain: Awaited<ReturnType<typeof makeBrain>> | undefined;
  try {
    const clip = typeof flags.wav === 'string' ? readClip(flags.wav) : undefined;
    brain = await makeBrain(clip);
    const host = typeof flags.host === 'string' ? flags.host : undefined;
    const apiKey = typeof flags.key === 'string' ? flags.key : undefined;
    if (vendor === 'ultravox') {
      const ultravox = await startUltravoxEmulator({ host, port, brain, apiKey });
      emulator = ultravox;
      banner = `Ultravox emulator on ${ultravox.baseUrl} (Ctrl-C stops)`;
    } else {
      const openai = await startOpenAIRealtimeEmulator({
        host,
        port,
        brain,
        apiKey,
        audioSpeed: speed,
        idleTimeoutMs: idle * 1000,
      });
      emulator = openai;
      banner = `OpenAI Realtime emulator on ${openai.url} (Ctrl-C stops)`;
    }
  } catch (err) {
    const message = err instanceof VoxgateError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`voxgate emulate: ${message}\n`);
    await brain?.close?.();
    return 1;
  }
  const started = brain;
  process.stdout.write(`${banner}\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      emulator
        .close()
        .then(() => started.close?.())
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function numberFlag(value: string | boolean | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

function readClip(path: string): BrainAudio {
  const wav = parseWav(readFileSync(path));
  const { encoding, sampleRate } = wav.format;
  const pcm =
    encoding === 'ulaw'
      ? ulawDecode(wav.data)
      : encoding === 'alaw'
        ? alawDecode(wav.data)
        : pcm16View(wav.data).slice();
  return { pcm, sampleRate };
}
