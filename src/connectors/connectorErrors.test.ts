/**
 * Bad servers: refused connections, a stalled handshake, HTTP refusals, a close in the middle of a response,
 * provider `error` events and malformed JSON. Each becomes a coded error (VG_ERR_*) on the media-unit client and
 * on the transport; nothing hangs. Raw `ws` servers on 127.0.0.1:0 that misbehave on purpose.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Link, MediaUnit } from '../graph/unit.js';
import { getLogLevel, setLogLevel, setLogSinks } from '../log.js';
import { ULAW_8K } from '../media/format.js';
import { OpenAIRealtimeWebSocket } from './openaiRealtime.js';
import {
  createRealtimeAPIClient,
  type RealtimeAPIClient,
  RealtimeAPIEvents,
} from './openaiRealtimeClient.js';
import { closedPort, eventId, rawServer, silentServer, waitFor } from './testHelpers.js';
import type { ConnectorCloseEvent, ConnectorEvent, TransportError } from './types.js';

class Sink extends MediaUnit {
  constructor() {
    super('sink');
  }
  inputFormat() {
    return ULAW_8K;
  }
  receiveMedia(_frame: Uint8Array, _link: Link): void {}
}

/** On response.create: response.created, one audio delta, then `then(ws)`. */
function midResponse(then: (ws: import('ws').WebSocket) => void) {
  return (ws: import('ws').WebSocket) => {
    ws.on('message', (data) => {
      if (JSON.parse(String(data)).type !== 'response.create') return;
      ws.send(
        JSON.stringify({
          type: 'response.created',
          event_id: eventId(),
          response: { id: 'resp_1', status: 'in_progress', output: [] },
        }),
      );
      const delta = Buffer.alloc(4800).toString('base64');
      ws.send(
        JSON.stringify({
          type: 'response.output_audio.delta',
          event_id: eventId(),
          response_id: 'resp_1',
          item_id: 'item_1',
          output_index: 0,
          content_index: 0,
          delta,
        }),
      );
      then(ws);
    });
  };
}

describe('connect failures reject with a coded error', () => {
  test('connection refused → VG_ERR_CONNECT_FAILED (client and transport)', async () => {
    const port = await closedPort();
    await assert.rejects(
      createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: `http://127.0.0.1:${port}/` }),
      {
        code: 'VG_ERR_CONNECT_FAILED',
        retryable: true,
      },
    );
    const t = new OpenAIRealtimeWebSocket({ url: `ws://127.0.0.1:${port}/v1/realtime` });
    const errors: unknown[] = [];
    t.on('error', (e) => errors.push(e));
    await assert.rejects(t.connect({ apiKey: 'sk-test' }), { code: 'VG_ERR_CONNECT_FAILED' });
    assert.equal(t.status, 'disconnected');
  });

  test('a handshake that never completes → VG_ERR_CONNECT_TIMEOUT', async () => {
    const server = await silentServer();
    try {
      const started = performance.now();
      await assert.rejects(
        createRealtimeAPIClient({
          apiKey: 'sk-test',
          baseUrl: server.url.replace('ws:', 'http:').replace('/v1/realtime', '/'),
          connectTimeoutMs: 150,
        }),
        { code: 'VG_ERR_CONNECT_TIMEOUT' },
      );
      assert.ok(performance.now() - started < 3000);
      const t = new OpenAIRealtimeWebSocket({ url: server.url, connectTimeoutMs: 150 });
      await assert.rejects(t.connect({ apiKey: 'sk-test' }), { code: 'VG_ERR_CONNECT_TIMEOUT' });
    } finally {
      await server.close();
    }
  });

  test('HTTP 401 on the upgrade → VG_ERR_UPSTREAM_HTTP with the status, not retryable; the key is sent as Bearer', async () => {
    const seen: (string | undefined)[] = [];
    const server = await rawServer(() => {}, {
      verifyClient: (auth) => {
        seen.push(auth);
        return 401;
      },
    });
    try {
      await assert.rejects(
        createRealtimeAPIClient({ apiKey: 'sk-wrong', baseUrl: server.httpUrl }),
        (err: unknown) => {
          const e = err as { code: string; status: number; retryable: boolean; message: string };
          assert.equal(e.code, 'VG_ERR_UPSTREAM_HTTP');
          assert.equal(e.status, 401);
          assert.equal(e.retryable, false);
          assert.ok(!e.message.includes('sk-wrong'), 'the key never appears in errors');
          return true;
        },
      );
      assert.deepEqual(seen, ['Bearer sk-wrong']);
    } finally {
      await server.close();
    }
  });

  test('close() while connecting → VG_ERR_CONNECT_ABORTED', async () => {
    const server = await silentServer();
    try {
      const t = new OpenAIRealtimeWebSocket({ url: server.url });
      const connecting = t.connect({ apiKey: 'sk-test' });
      await new Promise((r) => setTimeout(r, 20));
      t.close();
      await assert.rejects(connecting, { code: 'VG_ERR_CONNECT_ABORTED' });
      assert.equal(t.status, 'disconnected');
    } finally {
      await server.close();
    }
  });

  test('bad parameters are refused before connecting', async () => {
    await assert.rejects(createRealtimeAPIClient({ apiKey: '' }), { code: 'VG_ERR_BAD_ARGUMENT' });
    await assert.rejects(createRealtimeAPIClient({ apiKey: 'k', baseUrl: 'ftp://x/' }), {
      code: 'VG_ERR_CONFIG',
    });
  });
});

describe('a connection that goes bad', () => {
  test('close mid-response: WebSocketError (VG_ERR_UPSTREAM_CLOSED), onWebSocketClose once, links detached', async () => {
    const server = await rawServer(midResponse((ws) => setTimeout(() => ws.close(1011, 'boom'), 20)));
    try {
      const closes: ConnectorCloseEvent<RealtimeAPIClient>[] = [];
      const client = await createRealtimeAPIClient({
        apiKey: 'sk-test',
        baseUrl: server.httpUrl,
        onWebSocketClose: (e) => closes.push(e),
      });
      const sink = new Sink();
      client.sendMediaTo(sink);
      const error = waitFor<ConnectorEvent<RealtimeAPIClient>>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.WebSocketError, resolve),
        'WebSocketError',
      );
      client.responseCreate({});
      const event = await error;
      assert.equal(event.data.error?.code, 'VG_ERR_UPSTREAM_CLOSED');
      assert.equal(event.data.error?.closeCode, 1011);
      await new Promise((r) => setImmediate(r));
      assert.equal(closes.length, 1);
      assert.equal(closes[0]?.code, 1011);
      assert.equal(closes[0]?.reason, 'boom');
      assert.equal(closes[0]?.error?.code, 'VG_ERR_UPSTREAM_CLOSED');
      assert.ok(client.closed);
      assert.equal(sink.input, null);
      assert.throws(() => client.responseCreate({}), { code: 'VG_ERR_INVALID_STATE' });
      client.close();
      assert.equal(closes.length, 1, 'onWebSocketClose fires once');
    } finally {
      await server.close();
    }
  });

  test('close mid-response on the transport: an error event, then disconnected', async () => {
    const server = await rawServer(midResponse((ws) => ws.terminate()));
    try {
      const t = new OpenAIRealtimeWebSocket({ url: server.url });
      await t.connect({ apiKey: 'sk-test' });
      const error = waitFor<TransportError>((resolve) => t.on('error', resolve), 'error');
      const disconnected = waitFor<void>((resolve) => t.on('disconnected', () => resolve()), 'disconnected');
      t.requestResponse();
      assert.equal(((await error).error as { code: string }).code, 'VG_ERR_UPSTREAM_CLOSED');
      await disconnected;
      assert.equal(t.status, 'disconnected');
    } finally {
      await server.close();
    }
  });

  test('provider error events: Error with VG_ERR_UPSTREAM_ERROR; the session goes on, a fatal one closes it', async () => {
    const server = await rawServer((ws) => {
      ws.on('message', (data) => {
        const type = JSON.parse(String(data)).type as string;
        const code =
          type === 'response.create'
            ? 'conversation_already_has_active_response'
            : type === 'response.cancel'
              ? 'invalid_api_key'
              : null;
        if (code === null) return;
        ws.send(
          JSON.stringify({
            type: 'error',
            event_id: eventId(),
            error: { type: 'invalid_request_error', code, message: 'nope', param: null, event_id: null },
          }),
        );
      });
    });
    try {
      let closed = 0;
      const client = await createRealtimeAPIClient({
        apiKey: 'sk-test',
        baseUrl: server.httpUrl,
        onWebSocketClose: () => closed++,
      });
      const errors: ConnectorEvent<RealtimeAPIClient>[] = [];
      client.addEventListener(RealtimeAPIEvents.Error, (e) => errors.push(e));
      const first = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.Error, resolve),
        'error',
      );
      client.responseCreate({});
      await first;
      assert.equal(errors[0]?.data.customEvent, 'error');
      assert.equal(
        (errors[0]!.data.payload as { error: { code: string } }).error.code,
        'conversation_already_has_active_response',
      );
      assert.equal(errors[0]?.data.error?.code, 'VG_ERR_UPSTREAM_ERROR');
      assert.ok(!client.closed, 'a request error leaves the session open');
      const second = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.Error, resolve),
        'fatal error',
      );
      client.responseCancel({});
      await second;
      assert.ok(client.closed, 'invalid_api_key ends the session');
      assert.equal(closed, 1);
      assert.equal(client.stats.providerErrors, 2);
    } finally {
      await server.close();
    }
  });

  test('malformed JSON: WebSocketError (VG_ERR_UPSTREAM_PROTOCOL), then the session goes on', async () => {
    const server = await rawServer((ws) => {
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'input_audio_buffer.clear') return;
        ws.send('{"type": "response.created", oops');
        ws.send(JSON.stringify({ no: 'type' }));
        ws.send(JSON.stringify({ type: 'input_audio_buffer.cleared', event_id: eventId() }));
      });
    });
    try {
      const client = await createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: server.httpUrl });
      const problems: ConnectorEvent<RealtimeAPIClient>[] = [];
      client.addEventListener(RealtimeAPIEvents.WebSocketError, (e) => problems.push(e));
      const cleared = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.InputAudioBufferCleared, resolve),
        'cleared',
      );
      client.inputAudioBufferClear();
      await cleared;
      assert.deepEqual(
        problems.map((p) => p.data.error?.code),
        ['VG_ERR_UPSTREAM_PROTOCOL', 'VG_ERR_UPSTREAM_PROTOCOL'],
      );
      assert.equal(client.stats.protocolErrors, 2);
      assert.ok(!client.closed);
      client.close();

      const strict = await createRealtimeAPIClient({
        apiKey: 'sk-test',
        baseUrl: server.httpUrl,
        closeOnProtocolError: true,
      });
      const closed = waitFor<unknown>(
        (resolve) => strict.addEventListener(RealtimeAPIEvents.WebSocketError, resolve),
        'error',
      );
      strict.inputAudioBufferClear();
      await closed;
      assert.ok(strict.closed, 'closeOnProtocolError ends the session');
    } finally {
      await server.close();
    }
  });

  test('the transport reports malformed JSON and provider errors as error events and stays connected', async () => {
    const server = await rawServer((ws) => {
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'input_audio_buffer.clear') return;
        ws.send('not json');
        ws.send(
          JSON.stringify({
            type: 'error',
            event_id: eventId(),
            error: { type: 'invalid_request_error', code: 'x', message: 'm' },
          }),
        );
      });
    });
    try {
      const t = new OpenAIRealtimeWebSocket({ url: server.url });
      await t.connect({ apiKey: 'sk-test' });
      const errors: TransportError[] = [];
      const two = waitFor<void>(
        (resolve) => t.on('error', (e) => errors.push(e) === 2 && resolve()),
        'two errors',
      );
      t.sendEvent({ type: 'input_audio_buffer.clear' });
      await two;
      assert.equal((errors[0]!.error as { code: string }).code, 'VG_ERR_UPSTREAM_PROTOCOL');
      assert.equal(
        (errors[1]!.error as { type: string }).type,
        'error',
        'a provider error is passed as the reference does',
      );
      assert.equal(t.status, 'connected');
      t.close();
    } finally {
      await server.close();
    }
  });
});

describe('privacy', () => {
  test('the API key never reaches a log record, at any level', async () => {
    const records: unknown[] = [];
    const restoreSinks = setLogSinks([(r) => records.push(r)]);
    const level = getLogLevel();
    setLogLevel('debug');
    const key = 'sk-very-secret-key-123';
    const server = await rawServer((ws) => {
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'response.create') return;
        ws.send('garbage');
        ws.send(
          JSON.stringify({
            type: 'error',
            event_id: eventId(),
            error: { type: 'x', code: 'invalid_api_key', message: 'bad key' },
          }),
        );
      });
    });
    try {
      const client = await createRealtimeAPIClient({ apiKey: key, baseUrl: server.httpUrl });
      const closed = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.Error, resolve),
        'error',
      );
      client.responseCreate({});
      await closed;
      const t = new OpenAIRealtimeWebSocket({ url: server.url });
      await t.connect({ apiKey: key });
      t.close();
      const refused = await rawServer(() => {}, { verifyClient: () => 403 });
      await assert.rejects(createRealtimeAPIClient({ apiKey: key, baseUrl: refused.httpUrl }));
      await refused.close();
      assert.ok(records.length > 0, 'something was logged');
      assert.ok(!JSON.stringify(records).includes(key));
    } finally {
      setLogLevel(level);
      restoreSinks();
      await server.close();
    }
  });
});
