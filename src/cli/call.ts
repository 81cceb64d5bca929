import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type AudioFormat,
  audioFormat,
  bytesPerSample,
  createConverter,
  Framer,
  initMedia,
  parseWav,
  wavFile,
} from '../media/index.js';
import { CallSocket, FRAME_MS, print } from './callSocket.js';

const USAGE = `Usage: voxgate call --in speech.wav [options]

Places a call through a voxgate server's API, streams the WAV in real time, records the reply and prints the
call's transcripts and status as they arrive. Like a phone line, it sends silence when not talking. It lets the
agent finish its greeting before talking, and hangs up once the input has ended and the agent has had its say
(no reply pending, quiet for the grace time), or when the call ends.

Options:
  --in FILE          WAV to send (PCM16, mu-law or A-law, any supported rate; converted as needed)
  --out FILE         write what the call sends back to this WAV
  --server URL       server base URL (default $VOXGATE_URL or http://127.0.0.1:8080)
  --key K            API key (default $VOXGATE_API_KEY)
  --format F         pcm_s16le (default) or mulaw
  --rate N           sample rate on the wire (default 16000 for pcm_s16le, 8000 for mulaw)
  --assistant ID     assistantId to ask for
  --grace MS         after the input ends, hang up once the agent has been quiet this long (default 2000)
  --greeting-wait MS wait this long for the agent to start a greeting, then for it to end, before talking
                     (default 1500; 0 talks at once)
  -h, --help         show this help
`;

interface CallOptions {
  input: string;
  output: string | undefined;
  server: string;
  key: string | undefined;
  format: 'pcm_s16le' | 'mulaw';
  rate: number;
  assistantId: string | undefined;
  graceMs: number;
  greetingWaitMs: number;
}

export async function call(argv: string[]): Promise<number> {
  let options: CallOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if ((err as Error).message === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`voxgate call: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(options);
  } catch (err) {
    process.stderr.write(`voxgate call: ${(err as Error).message}\n`);
    return 1;
  }
}

function parseOptions(argv: string[]): CallOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      server: { type: 'string' },
      key: { type: 'string' },
      format: { type: 'string' },
      rate: { type: 'string' },
      assistant: { type: 'string' },
      grace: { type: 'string' },
      'greeting-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) throw new Error('help');
  if (values.in === undefined) throw new Error('--in is required: the WAV file to send');
  const format = values.format ?? 'pcm_s16le';
  if (format !== 'pcm_s16le' && format !== 'mulaw')
    throw new Error(`--format must be pcm_s16le or mulaw, not ${format}`);
  const rate = values.rate === undefined ? (format === 'mulaw' ? 8000 : 16000) : Number(values.rate);
  const graceMs = values.grace === undefined ? 2000 : Number(values.grace);
  if (!Number.isInteger(graceMs) || graceMs < 0)
    throw new Error('--grace must be a whole number of milliseconds');
  const greetingWaitMs = values['greeting-wait'] === undefined ? 1500 : Number(values['greeting-wait']);
  if (!Number.isInteger(greetingWaitMs) || greetingWaitMs < 0)
    throw new Error('--greeting-wait must be a whole number of milliseconds');
  const server = (values.server ?? process.env.VOXGATE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return {
    input: values.in,
    output: values.out,
    server,
    key: values.key ?? (process.env.VOXGATE_API_KEY || undefined),
    format,
    rate,
    assistantId: values.assistant,
    graceMs,
    greetingWaitMs,
  };
}

/** The input WAV as frames in the call's format, ready to send at 20 ms intervals. */
function loadFrames(path: string, target: AudioFormat): Uint8Array[] {
  const wav = parseWav(readFileSync(path));
  const converter = createConverter(wav.format, target);
  const frames: Uint8Array[] = [];
  const framer = new Framer(wav.format);
  const take = (frame: Uint8Array): void => {
    const out = converter === null ? frame : converter.convert(frame);
    if (out.length > 0) frames.push(out);
  };
  framer.push(wav.data, take);
  framer.flush(take, true);
  converter?.destroy();
  return frames;
}

async function createCall(o: CallOptions): Promise<{ id: string; url: string }> {
  const body: Record<string, unknown> = {
    transport: {
      provider: 'vapi.websocket',
      audioFormat: { format: o.format, container: 'raw', sampleRate: o.rate },
    },
  };
  if (o.assistantId !== undefined) body.assistantId = o.assistantId;
  let res: Response;
  try {
    res = await fetch(`${o.server}/call`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(o.key === undefined ? {} : { authorization: `Bearer ${o.key}` }),
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`cannot reach ${o.server} (${cause}): is \`voxgate serve\` running there?`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== 201) {
    throw new Error(
      `the server refused the call: ${res.status} ${String(json.code ?? '')} ${String(json.message ?? '')}`.trim(),
    );
  }
  const transport = json.transport as { websocketCallUrl?: string } | undefined;
  if (typeof json.id !== 'string' || typeof transport?.websocketCallUrl !== 'string') {
    throw new Error('the server answered without a call id and websocketCallUrl');
  }
  return { id: json.id, url: transport.websocketCallUrl };
}

async function run(o: CallOptions): Promise<number> {
  await initMedia();
  const format = audioFormat(o.format === 'mulaw' ? 'ulaw' : 'pcm16', o.rate);
  const frames = loadFrames(o.input, format);
  const { id, url } = await createCall(o);
  const seconds = (frames.length * FRAME_MS) / 1000;
  print(`call ${id}: sending ${seconds.toFixed(1)} s of ${o.format} at ${o.rate} Hz`);
  const result = await new CallSocket(url, frames, format, o).done;
  const bps = bytesPerSample(format.encoding);
  const audio = Buffer.concat(result.audio);
  const whole = audio.subarray(0, audio.length - (audio.length % bps));
  const heard = (whole.length / bps / format.sampleRate).toFixed(1);
  print(`call ended: ${result.endedReason}; received ${heard} s of audio`);
  if (o.output !== undefined) {
    writeFileSync(o.output, wavFile(format, whole));
    print(`wrote ${o.output}`);
  }
  return 0;
}
