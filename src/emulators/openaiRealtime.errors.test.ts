/**
 * Bad client events (each answered with an `error` whose code, param and event_id are checked, and the session
 * goes on), the limits (each with its error code or close code), and the handshake (auth, subprotocols, beta).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { pcm16Bytes, sine } from '../media/pcm.js';
import {
  type OpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulatorOptions,
  startOpenAIRealtimeEmulator,
} from './openaiRealtime.js';
import { officialClientProblem, RawRealtimeClient } from './testing.js';

let emu: OpenAIRealtimeEmulator | undefined;
let client: RawRealtimeClient | undefined;

async function start(options: OpenAIRealtimeEmulatorOptions = {}): Promise<RawRealtimeClient> {
  emu = await startOpenAIRealtimeEmulator({
    brain: scriptedBrain([]),
    audioSpeed: Number.POSITIVE_INFINITY,
    ...options,
  });
  client = await RawRealtimeClient.connect(emu.url);
  await client.next('session.created');
  return client;
}

afterEach(async () => {
  for (const e of client?.events ?? []) assert.equal(await officialClientProblem(e), null);
  client?.close();
  await emu?.close();
  client = undefined;
  emu = undefined;
});

/** Upgrade attempt; resolves with the HTTP status of a refusal, or 101. */
function handshake(
  url: string,
  headers: Record<string, string>,
  protocols: string[] = [],
): Promise<{ status: number; body: string; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('open', () => {
      resolve({ status: 101, body: '', protocol: ws.protocol });
      ws.close();
    });
    ws.once('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('bad client events get an error and the session goes on', () => {
  const cases: {
    name: string;
    send: string | object;
    code: string;
    param: string | null;
    eventId: string | null;
  }[] = [
    {
      name: 'bad JSON',
      send: '{"type": "session.update",',
      code: 'invalid_json',
      param: null,
      eventId: null,
    },
    { name: 'not an object', send: '[1,2]', code: 'invalid_event', param: null, eventId: null },
    {
      name: 'missing type',
      send: { event_id: 'a1' },
      code: 'missing_required_parameter',
      param: 'type',
      eventId: 'a1',
    },
    {
      name: 'unknown type',
      send: { type: 'response.explode', event_id: 'a2' },
      code: 'invalid_value',
      param: 'type',
      eventId: 'a2',
    },
    {
      name: 'missing required field',
      send: { type: 'conversation.item.delete', event_id: 'a3' },
      code: 'missing_required_parameter',
      param: 'item_id',
      eventId: 'a3',
    },
    {
      name: 'wrong type',
      send: {
        type: 'conversation.item.truncate',
        item_id: 'x',
        content_index: 0,
        audio_end_ms: 'soon',
        event_id: 'a4',
      },
      code: 'invalid_type',
      param: 'audio_end_ms',
      eventId: 'a4',
    },
    {
      name: 'beta session key',
      send: { type: 'session.update', event_id: 'a5', session: { type: 'realtime', modalities: ['audio'] } },
      code: 'unknown_parameter',
      param: 'session.modalities',
      eventId: 'a5',
    },
    {
      name: 'value out of range',
      send: {
        type: 'session.update',
        event_id: 'a6',
        session: { type: 'realtime', audio: { output: { speed: 3 } } },
      },
      code: 'invalid_value',
      param: 'session.audio.output.speed',
      eventId: 'a6',
    },
    {
      name: 'unsupported rate',
      send: {
        type: 'session.update',
        event_id: 'a7',
        session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } },
      },
      code: 'invalid_value',
      param: 'session.audio.input.format.rate',
      eventId: 'a7',
    },
    {
      name: 'bad item content for the role',
      send: {
        type: 'conversation.item.create',
        event_id: 'a8',
        item: { type: 'message', role: 'user', content: [{ type: 'output_text', text: 'x' }] },
      },
      code: 'invalid_value',
      param: 'item.content[0].type',
      eventId: 'a8',
    },
    {
      name: 'cancel with nothing active',
      send: { type: 'response.cancel', event_id: 'a9' },
      code: 'response_cancel_not_active',
      param: null,
      eventId: 'a9',
    },
    {
      name: 'commit of an empty buffer',
      send: { type: 'input_audio_buffer.commit', event_id: 'a10' },
      code: 'input_audio_buffer_commit_empty',
      param: null,
      eventId: 'a10',
    },
    {
      name: 'output_audio_buffer.clear over WebSocket',
      send: { type: 'output_audio_buffer.clear', event_id: 'a11' },
      code: 'unsupported_over_websocket',
      param: 'type',
      eventId: 'a11',
    },
    {
      name: 'truncate of an unknown item',
      send: {
        type: 'conversation.item.truncate',
        item_id: 'item_x',
        content_index: 0,
        audio_end_ms: 10,
        event_id: 'a12',
      },
      code: 'item_not_found',
      param: 'item_id',
      eventId: 'a12',
    },
  ];

  test('each is answered with its code, param and event_id, and the next event still works', async () => {
    const c = await start();
    for (const k of cases) {
      c.send(k.send);
      const err = await c.next('error');
      assert.deepEqual(
        { code: err.error.code, param: err.error.param, eventId: err.error.event_id, type: err.error.type },
        { code: k.code, param: k.param, eventId: k.eventId, type: 'invalid_request_error' },
        k.name,
      );
      assert.ok(err.error.message.length > 0);
    }
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'still here' } });
    const updated = (await c.next('session.updated')).session;
    assert.equal('instructions' in updated ? updated.instructions : undefined, 'still here');
  });
});

describe('limits', () => {
  test('maxMessageBytes: a bigger message closes the socket with 1009', async () => {
    const c = await start({ maxMessageBytes: 4096 });
    c.send({ type: 'input_audio_buffer.append', audio: 'A'.repeat(8000) });
    assert.equal((await c.closed).code, 1009);
  });

  test('maxInputBufferMs: an append past it gets input_audio_buffer_full; the buffer keeps what it had', async () => {
    const c = await start({ maxInputBufferMs: 500 });
    c.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: null } } },
    });
    const chunk = pcm16Bytes(sine(300, 24000, 300)).toString('base64');
    c.send({ type: 'input_audio_buffer.append', audio: chunk });
    c.send({ type: 'input_audio_buffer.append', audio: chunk, event_id: 'big' });
    const err = await c.next('error');
    assert.equal(err.error.code, 'input_audio_buffer_full');
    assert.equal(err.error.event_id, 'big');
    c.send({ type: 'input_audio_buffer.commit' });
    await c.next('input_audio_buffer.committed');
  });

  test('idleTimeoutMs: a silent client gets emulator_idle_timeout and close 1000', async () => {
    const c = await start({ idleTimeoutMs: 150 });
    const err = await c.next('error', 2000);
    assert.equal(err.error.code, 'emulator_idle_timeout');
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, 'emulator_idle_timeout');
  });

  test('maxSessionMs: session_expired and close 1000', async () => {
    const c = await start({ maxSessionMs: 150 });
    assert.equal((await c.next('error', 2000)).error.code, 'session_expired');
    assert.equal((await c.closed).code, 1000);
  });

  test('options are checked at start', async () => {
    await assert.rejects(startOpenAIRealtimeEmulator({ audioChunkMs: 0 }), { code: 'VG_ERR_CONFIG' });
    await assert.rejects(startOpenAIRealtimeEmulator({ idleTimeoutMs: -1 }), { code: 'VG_ERR_CONFIG' });
  });
});

describe('handshake', () => {
  test('auth: no key → 401; with an expected key, a wrong one → 401 and the right one opens', async () => {
    emu = await startOpenAIRealtimeEmulator({ apiKey: 'sk-right', brain: scriptedBrain([]) });
    const none = await handshake(emu.url, {});
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).error.code, 'missing_api_key');
    const wrong = await handshake(emu.url, { Authorization: 'Bearer sk-wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(JSON.parse(wrong.body).error.code, 'invalid_api_key');
    assert.ok(!wrong.body.includes('sk-wrong'), 'the key is not echoed');
    assert.equal((await handshake(emu.url, { Authorization: 'Bearer sk-right' })).status, 101);
  });

  test('browser form: the key in a subprotocol, and "realtime" is selected', async () => {
    emu = await startOpenAIRealtimeEmulator({ apiKey: 'ek_abc', brain: scriptedBrain([]) });
    const r = await handshake(emu.url, {}, [
      'realtime',
      'openai-insecure-api-key.ek_abc',
      'openai-agents-sdk.0.20.0',
    ]);
    assert.equal(r.status, 101);
    assert.equal(r.protocol, 'realtime');
  });

  test('the beta header is refused with close 4000', async () => {
    emu = await startOpenAIRealtimeEmulator({ brain: scriptedBrain([]) });
    const c = await RawRealtimeClient.connect(emu.url, {
      headers: { Authorization: 'Bearer k', 'OpenAI-Beta': 'realtime=v1' },
    });
    assert.equal((await c.next('error')).error.code, 'beta_api_shape_disabled');
    const closed = await c.closed;
    assert.deepEqual(closed, { code: 4000, reason: 'invalid_request_error.beta_api_shape_disabled' });
  });

  test('unknown paths get 404; close() ends open sessions with 1001', async () => {
    emu = await startOpenAIRealtimeEmulator({ brain: scriptedBrain([]) });
    assert.equal(
      (await handshake(emu.url.replace('/v1/realtime', '/v1/other'), { Authorization: 'Bearer k' })).status,
      404,
    );
    const c = await RawRealtimeClient.connect(emu.url);
    await c.next('session.created');
    assert.equal(emu.sessions, 1);
    await emu.close();
    assert.equal((await c.closed).code, 1001);
    emu = undefined;
  });
});
