/**
 * The local agent end to end, through the real connector path, with no key and no network:
 *
 *   caller ⇄ Vapi WebSocket transport ⇄ Call ⇄ OpenAI.RealtimeAPIClient ⇄ WebSocket ⇄ in-process OpenAI Realtime
 *   server (127.0.0.1, random port) ⇄ localBrain()
 *
 * The server runs in-process (default scenario, `agent: 'local'`) and callers are real WebSocket clients that
 * send a frame every 20 ms like a phone line (silence when not talking). Taps on the in-process OpenAI Realtime
 * server show what crossed the connector's wire. Plus `ultravox-local`, and `voxgate serve` + `voxgate call` as
 * processes. Tests that need speech recognition skip, saying why, when pocketsphinx is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { defaultDialogueRules } from '../src/agent/dialogue.js';
import { detectRecognizer } from '../src/agent/recognizer.js';
import { Tts } from '../src/agent/tts.js';
import { voiced } from '../src/emulators/testing.js';
import { mediaStats } from '../src/graph/stats.js';
import { ulawDecode, ulawEncode } from '../src/media/g711.js';
import { initMedia } from '../src/media/index.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine, toneLevelDb } from '../src/media/pcm.js';
import { parseWav } from '../src/media/wav.js';
import { DEFAULT_LIMITS } from '../src/scenario/runtime.js';
import type { VoxgateServer } from '../src/server/server.js';
import { type CliRun, runCli, waitForOutput as waitFor_ } from './helpers/cli.js';
import { CallClient, createCall, type Format, request, startServer, waitFor } from './helpers/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const recognizer = detectRecognizer();
const needsRecognition = recognizer.available ? false : `needs speech recognition: ${recognizer.reason}`;

// --- a caller on a phone line -----------------------------------------------------------------------------------

interface Received {
  at: number;
  audio: Buffer | null;
  message: Record<string, unknown> | null;
}

/** A call-socket client that sends a frame every 20 ms (speech when asked, else silence) and logs what it gets. */
class Caller {
  readonly client: CallClient;
  readonly log: Received[] = [];
  readonly format: Format;
  readonly openedAt: number;
  readonly #frameBytes: number;
  readonly #silence: Uint8Array;
  readonly #queue: Uint8Array[] = [];
  #spoken: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #t0 = 0;
  #sent = 0;

  private constructor(client: CallClient, format: Format, rate: number, openedAt: number) {
    this.client = client;
    this.format = format;
    this.openedAt = openedAt;
    this.#frameBytes = format === 'mulaw' ? rate / 50 : rate / 25;
    this.#silence = new Uint8Array(this.#frameBytes).fill(format === 'mulaw' ? 0xff : 0);
    client.ws.on('message', (data: Buffer, binary: boolean) => {
      this.log.push({
        at: performance.now(),
        audio: binary ? Buffer.from(data) : null,
        message: binary ? null : (JSON.parse(data.toString('utf8')) as Record<string, unknown>),
      });
    });
  }

  static async call(server: VoxgateServer, format: Format = 'pcm_s16le', rate = 16000): Promise<Caller> {
    const { url, id } = await createCall(server, { format, container: 'raw', sampleRate: rate });
    const client = new CallClient(url);
    await client.opened;
    const caller = new Caller(client, format, rate, performance.now());
    caller.id = id;
    await client.waitForMessage((m) => m.type === 'status-update' && m.status === 'in-progress');
    caller.#start();
    client.closed.then(() => caller.#stop());
    return caller;
  }

  id = '';

  /** Queues `pcm` (already at the call's rate) and resolves once its last frame is sent. */
  say(pcm: Int16Array): Promise<void> {
    const bytes = this.format === 'mulaw' ? ulawEncode(pcm) : pcm16Bytes(pcm);
    for (let i = 0; i < bytes.length; i += this.#frameBytes) {
      const frame = new Uint8Array(this.#frameBytes).fill(this.#silence[0]!);
      frame.set(bytes.subarray(i, i + this.#frameBytes));
      this.#queue.push(frame);
    }
    return new Promise((resolve) => {
      this.#spoken = resolve;
    });
  }

  /** Ends the call from the caller's side and waits for the socket to close. */
  async hangUp(): Promise<void> {
    if (this.client.ws.readyState === this.client.ws.OPEN) this.client.send({ type: 'end-call' });
    await this.client.closed;
  }

  messages(predicate: (m: Record<string, unknown>) => boolean = () => true): Record<string, unknown>[] {
    return this.log.flatMap((r) => (r.message !== null && predicate(r.message) ? [r.message] : []));
  }

  /** Index in the log of the first message matching `predicate`, waiting for it. */
  async indexOf(
    predicate: (m: Record<string, unknown>) => boolean,
    ms = 15_000,
    what = 'a message',
  ): Promise<number> {
    const find = () => this.log.findIndex((r) => r.message !== null && predicate(r.message));
    try {
      await waitFor(() => find() >= 0, ms, what);
    } catch (err) {
      const said = this.messages((m) => m.type === 'transcript' && m.transcriptType === 'final');
      const lines = said.map((m) => `${String(m.role)}: ${String(m.transcript)}`).join(' | ');
      throw new Error(`${(err as Error).message}; transcripts so far: ${lines || 'none'}`);
    }
    return find();
  }

  audioFrames(from = 0, to = this.log.length): Buffer[] {
    return this.log.slice(from, to).flatMap((r) => (r.audio === null ? [] : [r.audio]));
  }

  pcm(frames: Buffer[]): Int16Array {
    const bytes = Buffer.concat(frames);
    return this.format === 'mulaw' ? ulawDecode(bytes) : pcm16View(bytes).slice();
  }

  #start(): void {
    this.#t0 = performance.now();
    this.#tick();
  }

  #tick = (): void => {
    const ws = this.client.ws;
    if (ws.readyState !== ws.OPEN) return;
    const due = Math.floor((performance.now() - this.#t0) / 20) + 1;
    while (this.#sent < due) {
      const frame = this.#queue.shift();
      ws.send(frame ?? this.#silence);
      this.#sent++;
      if (frame !== undefined && this.#queue.length === 0) {
        this.#spoken?.();
        this.#spoken = null;
      }
    }
    this.#timer = setTimeout(this.#tick, this.#t0 + this.#sent * 20 - performance.now());
  };

  #stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#spoken?.();
  }
}

const isFinal = (role: string, pattern?: RegExp) => (m: Record<string, unknown>) =>
  m.type === 'transcript' &&
  m.role === role &&
  m.transcriptType === 'final' &&
  (pattern === undefined || pattern.test(String(m.transcript)));

/** 20 ms frames whose peak is above the noise floor, in ms. */
function voicedMs(pcm: Int16Array, rate: number): number {
  const n = rate / 50;
  let ms = 0;
  for (let i = 0; i + n <= pcm.length; i += n) {
    let peak = 0;
    for (let j = i; j < i + n; j++) peak = Math.max(peak, Math.abs(pcm[j]!));
    if (peak > 300) ms += 20;
  }
  return ms;
}

// --- taps on the in-process OpenAI Realtime server ----------------------------------------------------------------

type Wire = { session: string; event: Record<string, unknown> };
const serverEvents: Wire[] = [];
const clientEvents: Wire[] = [];
const ultravoxMessages: Record<string, unknown>[] = [];

function sessionOf(events: Wire[], since: number): string | undefined {
  return events.slice(since).find((w) => w.event.type === 'session.created')?.session;
}

let tts: Tts;
const speech = new Map<string, Int16Array>();
/** `text` spoken by flite at `rate`, synthesised once. */
async function spoken(text: string, rate = 16000): Promise<Int16Array> {
  const key = `${rate}:${text}`;
  let pcm = speech.get(key);
  if (pcm === undefined) {
    pcm = await tts.synthesize(text, { sampleRate: rate });
    speech.set(key, pcm);
  }
  return pcm;
}

before(async () => {
  await initMedia();
  tts = new Tts();
  await tts.warmUp();
});
after(async () => {
  await tts.close();
  // Every server of this file is closed: nothing of the local agents survives, no recogniser process (a child
  // of this process).
  const children = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid ? [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
  // (tsx's esbuild service is this process's own child, and stays.)
  assert.deepEqual(
    children.filter((name) => name !== 'esbuild'),
    [],
    'no child process left',
  );
  // (A synthesis worker left behind would keep this file's process alive; `voxgate serve` exiting on SIGTERM,
  // below, shows the server lets go of everything.)
});

describe('the local agent, no key, no network', { concurrency: true }, () => {
  describe('default scenario, agent local, in-process server', { concurrency: 1 }, () => {
    let server: VoxgateServer;

    before(async () => {
      server = await startServer(
        { scenario: 'default', agent: 'local' },
        {
          localAgentTaps: {
            onServerEvent: (session, event) => {
              if (event.type !== 'response.output_audio.delta') serverEvents.push({ session, event });
            },
            onClientEvent: (session, event) => {
              if (event.type !== 'input_audio_buffer.append')
                clientEvents.push({ session, event: event as unknown as Record<string, unknown> });
            },
          },
        },
      );
    });

    after(() => server.close());

    test('/healthz says which agent and recognition mode are active', async () => {
      const health = await request('GET', `${server.url}/healthz`);
      assert.deepEqual(health.json, {
        status: 'ok',
        agent: 'local',
        recognition: recognizer.available ? 'pocketsphinx' : 'unavailable',
      });
    });

    test('greets, hears "what is the weather in Paris", calls get_weather, answers', {
      skip: needsRecognition,
    }, async (t) => {
      const since = serverEvents.length;
      const caller = await Caller.call(server);
      try {
        // The greeting: audio first, its transcript, then the agent stops.
        await waitFor(() => caller.audioFrames().length > 0, 10_000, 'the greeting audio');
        const firstAudioMs = caller.log.find((r) => r.audio !== null)!.at - caller.openedAt;
        t.diagnostic(`first greeting audio ${firstAudioMs.toFixed(0)} ms after the call socket opened`);
        const greeting = await caller.indexOf(
          isFinal('assistant', /voxgate local agent/),
          15_000,
          'the greeting',
        );
        const greetingDone = await caller.indexOf(
          (m) => m.type === 'speech-update' && m.role === 'assistant' && m.status === 'stopped',
          20_000,
          'the end of the greeting',
        );
        const greetingAudio = caller.pcm(caller.audioFrames(0, greetingDone));
        assert.ok(voicedMs(greetingAudio, 16000) > 3000, 'the caller heard the greeting');
        assert.ok(greeting < greetingDone);

        // The question, then the line goes quiet: the turn ends, is recognised, and the tool is called.
        await caller.say(await spoken('What is the weather in Paris?'));
        await caller.indexOf(isFinal('user', /weather.*paris/i), 20_000, "the caller's transcript");
        const session = sessionOf(serverEvents, since);
        await waitFor(
          () =>
            serverEvents.some(
              (w) => w.session === session && w.event.type === 'response.function_call_arguments.done',
            ),
          10_000,
          'the tool call',
        );
        const call = serverEvents.find(
          (w) => w.session === session && w.event.type === 'response.function_call_arguments.done',
        )!.event;
        assert.equal(call.name, 'get_weather');
        assert.deepEqual(JSON.parse(String(call.arguments)), { city: 'Paris' });
        await waitFor(
          () =>
            clientEvents.some(
              (w) =>
                w.session === session &&
                w.event.type === 'conversation.item.create' &&
                (w.event.item as { call_id?: string }).call_id === call.call_id,
            ),
          10_000,
          'the tool output',
        );
        const output = clientEvents.find(
          (w) => w.session === session && w.event.type === 'conversation.item.create',
        )!.event.item as { type: string; output: string };
        assert.equal(output.type, 'function_call_output');
        assert.equal(JSON.parse(output.output).source, 'demo data');

        // The answer: spoken and transcribed.
        const answer = await caller.indexOf(isFinal('assistant', /weather in Paris/i), 20_000, 'the answer');
        await waitFor(
          () => voicedMs(caller.pcm(caller.audioFrames(answer)), 16000) > 1000,
          20_000,
          'the answer audio',
        );
        const record = await request('GET', `${server.url}/call/${caller.id}`);
        const lines = (record.json.messages as { role: string; message: string }[]).map((m) => m.role);
        assert.deepEqual(lines.slice(0, 3), ['bot', 'user', 'bot'], 'GET /call/:id has the transcript');
      } finally {
        await caller.hangUp();
      }
    });

    test('barge-in: talking over the greeting stops its audio within one frame', async (t) => {
      const since = serverEvents.length;
      const sinceClient = clientEvents.length;
      const caller = await Caller.call(server);
      try {
        await waitFor(() => caller.audioFrames().length >= 25, 10_000, 'half a second of greeting');
        const speaking = caller.say(await spoken('Hello there.'));
        const interrupted = await caller.indexOf(
          (m) => m.type === 'user-interrupted',
          10_000,
          'user-interrupted',
        );
        await sleep(400); // the caller is still talking: no agent audio may come now
        const resumed = caller.log.findIndex(
          (r, i) =>
            i > interrupted &&
            r.message?.type === 'speech-update' &&
            r.message.role === 'assistant' &&
            r.message.status === 'started',
        );
        const late = caller.audioFrames(interrupted + 1, resumed < 0 ? undefined : resumed).length;
        t.diagnostic(`${late} agent frames reached the caller after user-interrupted`);
        assert.ok(late <= DEFAULT_LIMITS.leadFrames + 1, `${late} frames after user-interrupted`);
        assert.ok(caller.audioFrames(0, interrupted).length < 300, 'most of the greeting was never played');
        assert.ok(
          caller.messages(
            (m) => m.type === 'speech-update' && m.role === 'assistant' && m.status === 'stopped',
          ).length > 0,
          'the agent stopped speaking',
        );
        // On the connector's wire: speech started, the greeting's response cancelled, its item truncated.
        const session = sessionOf(serverEvents, since);
        const mine = serverEvents.filter((w) => w.session === session).map((w) => w.event);
        assert.ok(mine.some((e) => e.type === 'input_audio_buffer.speech_started'));
        const cancelled = mine.find(
          (e) => e.type === 'response.done' && (e.response as { status: string }).status === 'cancelled',
        );
        assert.ok(cancelled, 'the greeting was cancelled');
        assert.equal(
          (cancelled.response as { status_details: { reason: string } }).status_details.reason,
          'turn_detected',
        );
        const truncate = clientEvents
          .slice(sinceClient)
          .find((w) => w.session === session && w.event.type === 'conversation.item.truncate');
        assert.ok(truncate, 'the client truncated the greeting at what was played');
        await speaking;
      } finally {
        await caller.hangUp();
      }
    });

    test('an 8 kHz mu-law caller gets echo mode, with no transcoding between caller and client', async () => {
      const since = serverEvents.length;
      const converters = mediaStats.convertersCreated;
      const caller = await Caller.call(server, 'mulaw', 8000);
      try {
        await waitFor(() => caller.audioFrames().length >= 10, 10_000, 'the greeting');
        // A voiced sound opens the turn (fvad does not reliably call a steady tone speech: at some frame
        // alignments it never does), and the tone follows inside the same turn.
        const burst = new Int16Array(8000);
        burst.set(voiced(8000, 300), 400);
        burst.set(sine(1000, 8000, 600, 0.4), 2800);
        await caller.say(burst);
        const intro = await caller.indexOf(
          isFinal('assistant', /^You said:/),
          20_000,
          'the echo announcement',
        );
        // After "You said:", the caller hears its own tone back.
        let echo = -1;
        await waitFor(
          () => {
            const pcm = caller.pcm(caller.audioFrames(intro));
            for (let i = 0; i + 1600 <= pcm.length; i += 160) {
              const window = pcm.subarray(i, i + 1600);
              if (
                Math.abs(dominantFrequency(window, 8000) - 1000) < 15 &&
                toneLevelDb(window, 1000, 8000) > -20
              ) {
                echo = i;
                return true;
              }
            }
            return false;
          },
          10_000,
          'the echoed tone',
        );
        assert.ok(echo > 0, 'the announcement comes first');
        assert.equal(mediaStats.convertersCreated, converters, 'caller ⇄ client links are passthrough');
        const session = sessionOf(serverEvents, since);
        const updated = serverEvents
          .filter((w) => w.session === session && w.event.type === 'session.updated')
          .map(
            (w) =>
              (w.event.session as { audio: { input: { format: { type: string } } } }).audio.input.format.type,
          );
        assert.equal(updated.at(-1), 'audio/pcmu', 'the session runs in audio/pcmu');
      } finally {
        await caller.hangUp();
      }
    });

    test('"goodbye": the agent says goodbye, calls end_call, and the call ends after the audio', {
      skip: needsRecognition,
    }, async () => {
      const since = serverEvents.length;
      const caller = await Caller.call(server);
      await waitFor(() => caller.audioFrames().length >= 10, 10_000, 'the greeting');
      void caller.say(await spoken('Goodbye.'));
      const goodbye = await caller.indexOf(isFinal('assistant', /^Goodbye!/), 20_000, 'the goodbye');
      const closed = await Promise.race([caller.client.closed, sleep(10_000).then(() => null)]);
      assert.ok(closed !== null, 'the call ended');
      const session = sessionOf(serverEvents, since);
      const endCall = serverEvents.find(
        (w) => w.session === session && w.event.type === 'response.function_call_arguments.done',
      );
      assert.equal(endCall?.event.name, 'end_call');
      const report = caller.messages((m) => m.type === 'end-of-call-report')[0];
      assert.equal(report?.endedReason, 'assistant-ended-call');
      assert.ok(
        voicedMs(caller.pcm(caller.audioFrames(goodbye)), 16000) > 600,
        'the goodbye played out first',
      );
      const record = await request('GET', `${server.url}/call/${caller.id}`);
      assert.equal(record.json.endedReason, 'assistant-ended-call');
    });
  });

  test('agent ultravox-local: the weather tool through the Ultravox connector', {
    skip: needsRecognition,
  }, async () => {
    const server = await startServer(
      { scenario: 'default', agent: 'ultravox-local' },
      { localAgentTaps: { onClientMessage: (_id, m) => ultravoxMessages.push(m) } },
    );
    try {
      const caller = await Caller.call(server);
      try {
        await caller.indexOf(isFinal('assistant', /voxgate local agent/), 30_000, 'the greeting');
        await caller.say(await spoken('What is the weather in Paris?'));
        await caller.indexOf(isFinal('user', /weather.*paris/i), 20_000, "the caller's transcript");
        await waitFor(
          () => ultravoxMessages.some((m) => m.type === 'client_tool_result'),
          10_000,
          'the tool result',
        );
        const result = ultravoxMessages.find((m) => m.type === 'client_tool_result')!;
        assert.equal(JSON.parse(String(result.result)).source, 'demo data');
        const started = await caller.indexOf(
          (m) => m.type === 'speech-update' && m.role === 'assistant' && m.turn === 1,
          10_000,
          'the answer',
        );
        await waitFor(
          () => voicedMs(caller.pcm(caller.audioFrames(started)), 16000) > 1000,
          20_000,
          'the answer audio',
        );
      } finally {
        await caller.hangUp();
      }
      assert.deepEqual((await request('GET', `${server.url}/healthz`)).json.agent, 'ultravox-local');
    } finally {
      await server.close();
    }
  });

  test('npm start: `voxgate serve` on a fresh clone, then `voxgate call --in assets/hello.wav`', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'voxgate-agent-e2e-'));
    const env: NodeJS.ProcessEnv = { ...process.env, VOXGATE_LOG_LEVEL: 'warn' };
    for (const name of [
      'OPENAI_API_KEY',
      'ULTRAVOX_API_KEY',
      'VOXGATE_AGENT',
      'VOXGATE_SCENARIO',
      'VOXGATE_CONFIG',
    ])
      delete env[name];
    const serve = runCli(['serve', '--port', '0'], env);
    try {
      const url = (await waitForOutput(serve, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      assert.match(serve.stdout(), /agent: +local \(the local agent/);
      assert.match(
        serve.stdout(),
        recognizer.available
          ? /recognition: pocketsphinx \(16 kHz\+ callers\), echo mode for 8 kHz callers/
          : /recognition: unavailable \(apt-get install pocketsphinx pocketsphinx-en-us\), echo mode/,
      );
      const out = join(dir, 'reply.wav');
      const call = runCli(
        ['call', '--server', url, '--in', join(root, 'assets/hello.wav'), '--out', out],
        env,
      );
      assert.equal(await call.exit, 0, call.stderr());
      const printed = call.stdout();
      assert.match(printed, /assistant: Hello! This is the voxgate local agent/);
      if (recognizer.available) assert.match(printed, /user: hello/);
      assert.match(printed, /assistant: You said:/, 'the agent answered the caller');
      const reply = parseWav(readFileSync(out));
      const heard = voicedMs(
        pcm16View(reply.data.subarray(0, reply.data.length & ~1)),
        reply.format.sampleRate,
      );
      const greeting = voicedMs(await spoken(defaultDialogueRules().greeting), 16000);
      t.diagnostic(`reply: ${heard} ms of voice; the greeting alone: ${greeting} ms`);
      assert.ok(
        heard > greeting + 1500,
        `the reply (${heard} ms) is more than the greeting (${greeting} ms)`,
      );
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exit, 0, serve.stderr());
      assert.match(serve.stdout(), /stopped/);
    } finally {
      serve.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- processes ----------------------------------------------------------------------------------------------------

function waitForOutput(r: CliRun, pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  return waitFor_(r, pattern, ms);
}
