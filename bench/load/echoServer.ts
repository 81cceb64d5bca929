/**
 * A local OpenAI Realtime (GA) server with an echo brain, for the load benchmark. Per session it sends
 * `session.created`, answers every `session.update` with the full `session.updated`, and on the first
 * `input_audio_buffer.append` opens one long response (`response.created`, `response.output_item.added`,
 * `conversation.item.added`, `response.content_part.added`). Every append's audio then comes straight back as a
 * `response.output_audio.delta` of the same bytes (the same base64 text: input and output formats are equal),
 * sent at once. No VAD, no pacing: the server adds as little as it can to the path.
 *
 * Appends take a fast path (a string scan, no JSON parse); other client events are validated with the
 * emulator's schemas (`src/emulators/openaiRealtime/clientEvents.ts`) and answered like the emulator does.
 *
 * The `model` query parameter is the call's bench tag: `GET /bench/first-frames` returns (and forgets) the epoch
 * time of each tag's first append, which the orchestrator pairs with the caller's setup start.
 *
 * Run: `node --import tsx bench/load/echoServer.ts [--port N]`; prints `{"ready":true,"port":N}` on stdout.
 */
import type { IncomingMessage } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { RawData, WebSocket } from 'ws';
import { type EmulatorServer, sendJson, startEmulatorServer } from '../../src/emulators/harness.js';
import { parseClientEvent } from '../../src/emulators/openaiRealtime/clientEvents.js';
import { ClientEventError } from '../../src/emulators/openaiRealtime/protocol.js';
import {
  applySessionPatch,
  defaultSession,
  type SessionState,
} from '../../src/emulators/openaiRealtime/sessionConfig.js';
import { createLogger, setLogLevel } from '../../src/log.js';
import { epochNow } from './common.js';

export interface EchoServer {
  readonly url: string;
  readonly port: number;
  readonly server: EmulatorServer;
  /** Epoch ms of each tag's first append since the last call; clears the record. */
  takeFirstFrames(): Record<string, number>;
  readonly stats: { sessionsOpened: number; appends: number; deltas: number };
  close(): Promise<void>;
}

const APPEND_TYPE = Buffer.from('"type":"input_audio_buffer.append"');
const AUDIO_KEY = Buffer.from('"audio":"');
const QUOTE = 0x22;

let nextId = 1;
const newId = (prefix: string): string => `${prefix}_bench${(nextId++).toString(36).padStart(14, '0')}`;

export async function startEchoServer(options: { host?: string; port?: number } = {}): Promise<EchoServer> {
  const firstFrames = new Map<string, number>();
  const stats = { sessionsOpened: 0, appends: 0, deltas: 0 };
  const log = createLogger({ component: 'bench-echo' });
  const server = await startEmulatorServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    log,
    routes: [
      {
        path: '/v1/realtime',
        maxMessageBytes: 1024 * 1024,
        perMessageDeflate: false,
        authorize: (req) =>
          req.headers.authorization?.startsWith('Bearer ') === true
            ? { accept: true }
            : {
                accept: false,
                status: 401,
                body: { error: { type: 'invalid_request_error', code: 'missing_api_key' } },
              },
        onConnection: (ws: WebSocket, _req: IncomingMessage, url: URL) => {
          stats.sessionsOpened++;
          new EchoSession(ws, url.searchParams.get('model') ?? 'gpt-realtime', firstFrames, stats);
        },
      },
    ],
    onRequest: (req, res, url) => {
      if (req.method === 'GET' && url.pathname === '/bench/first-frames') {
        sendJson(res, 200, { firstFrames: Object.fromEntries(firstFrames), stats, open: server.openSockets });
        firstFrames.clear();
        return true;
      }
      return false;
    },
  });
  return {
    url: `${server.wsUrl}/v1/realtime`,
    port: server.port,
    server,
    stats,
    takeFirstFrames() {
      const out = Object.fromEntries(firstFrames);
      firstFrames.clear();
      return out;
    },
    close: () => server.close(),
  };
}

class EchoSession {
  readonly #ws: WebSocket;
  readonly #tag: string;
  readonly #firstFrames: Map<string, number>;
  readonly #stats: EchoServer['stats'];
  readonly #session: SessionState;
  #audioProduced = false;
  /** Everything of a delta event before the base64 text, once the response is open. */
  #deltaHead: string | null = null;
  #eventSeq = 0;
  readonly #eventPrefix = `"event_id":"event_${newId('e')}`;

  constructor(ws: WebSocket, tag: string, firstFrames: Map<string, number>, stats: EchoServer['stats']) {
    this.#ws = ws;
    this.#tag = tag;
    this.#firstFrames = firstFrames;
    this.#stats = stats;
    this.#session = defaultSession(newId('sess'), tag, Date.now(), 3_600_000);
    ws.on('message', this.#onMessage);
    ws.on('error', () => {});
    this.#send({ type: 'session.created', session: this.#session });
  }

  #eventId(): string {
    return `${this.#eventPrefix}_${(this.#eventSeq++).toString(36)}"`;
  }

  #send(event: { type: string } & Record<string, unknown>): void {
    if (this.#ws.readyState !== 1) return;
    const { type, ...rest } = event;
    const body = JSON.stringify(rest);
    this.#ws.send(`{"type":"${type}",${this.#eventId()}${body === '{}' ? '}' : `,${body.slice(1)}`}`);
  }

  readonly #onMessage = (data: RawData, isBinary: boolean): void => {
    const buf = data as Buffer;
    if (!isBinary && buf.indexOf(APPEND_TYPE) >= 0) {
      const at = buf.indexOf(AUDIO_KEY);
      const end = at < 0 ? -1 : buf.indexOf(QUOTE, at + AUDIO_KEY.length);
      if (end > 0) {
        this.#echo(buf.toString('latin1', at + AUDIO_KEY.length, end));
        return;
      }
    }
    this.#control(buf, isBinary);
  };

  #echo(b64: string): void {
    this.#stats.appends++;
    if (this.#deltaHead === null) this.#openResponse();
    if (this.#ws.readyState !== 1) return;
    this.#ws.send(`${this.#deltaHead}${this.#eventId()},"delta":"${b64}"}`);
    this.#stats.deltas++;
  }

  #openResponse(): void {
    if (!this.#firstFrames.has(this.#tag)) this.#firstFrames.set(this.#tag, epochNow());
    this.#audioProduced = true;
    const responseId = newId('resp');
    const itemId = newId('item');
    const out = this.#session.audio.output;
    this.#send({
      type: 'response.created',
      response: {
        id: responseId,
        object: 'realtime.response',
        status: 'in_progress',
        status_details: null,
        output: [],
        conversation_id: newId('conv'),
        output_modalities: ['audio'],
        max_output_tokens: 'inf',
        audio: {
          output: { format: out.format, voice: typeof out.voice === 'string' ? out.voice : out.voice.id },
        },
        usage: null,
        metadata: null,
      },
    });
    const item = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      status: 'in_progress',
      role: 'assistant',
      content: [],
    };
    this.#send({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item });
    this.#send({ type: 'conversation.item.added', previous_item_id: null, item });
    const ids = { response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
    this.#send({ type: 'response.content_part.added', ...ids, part: { type: 'audio', transcript: '' } });
    this.#deltaHead = `{"type":"response.output_audio.delta","response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,`;
  }

  #control(buf: Buffer, isBinary: boolean): void {
    let raw: unknown;
    try {
      if (isBinary) throw new SyntaxError('binary');
      raw = JSON.parse(buf.toString('utf8'));
    } catch {
      this.#error('invalid_json', 'The event could not be parsed as JSON.', null);
      return;
    }
    try {
      const event = parseClientEvent(raw);
      if (event.type === 'input_audio_buffer.append') this.#echo(event.audio);
      else if (event.type === 'session.update') {
        applySessionPatch(this.#session, event.session, this.#audioProduced);
        this.#send({ type: 'session.updated', session: this.#session });
      }
      // Everything else (response.create, cancel, truncate, retrieve…) is accepted and has no effect: the one
      // response runs for the whole call.
    } catch (err) {
      if (err instanceof ClientEventError) this.#error(err.code, err.message, err.param);
      else throw err;
    }
  }

  #error(code: string, message: string, param: string | null): void {
    this.#send({
      type: 'error',
      error: { type: 'invalid_request_error', code, message, param, event_id: null },
    });
  }
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const portArg = process.argv.indexOf('--port');
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
  const echo = await startEchoServer({ port });
  process.stdout.write(`${JSON.stringify({ ready: true, port: echo.port, url: echo.url })}\n`);
  const stop = (): void => {
    echo.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
