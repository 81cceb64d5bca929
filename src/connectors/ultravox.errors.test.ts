/**
 * Bad parameters and bad server behaviour give coded errors, and the client ends cleanly: HTTP 4xx/5xx and
 * answers without a joinUrl, unreachable and silent servers, a refused join, a close mid-call, malformed and
 * incomplete data messages, and a server that stops answering pings.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawJoinServer } from '../emulators/ultravox/testing.js';
import { startUltravoxEmulator, type UltravoxEmulator } from '../emulators/ultravox.js';
import { frameClock } from '../graph/clock.js';
import { initMedia } from '../media/index.js';
import { closedPort, silentServer, waitFor } from './testHelpers.js';
import type { ConnectorCloseEvent, ConnectorEvent } from './types.js';
import {
  createWebSocketAPIClient,
  HTTPEndpoint,
  WebSocketAPIClient,
  type WebSocketAPIClientParameters,
  WebSocketAPIEvents,
} from './ultravox.js';

/** A plain HTTP server whose every answer `answer` writes. */
async function httpServer(
  answer: (res: ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const create = (
  baseUrl: string,
  extra: Partial<WebSocketAPIClientParameters> = {},
): WebSocketAPIClientParameters => ({
  endpoint: HTTPEndpoint.CREATE_CALL,
  authorizations: { 'X-API-Key': 'uv-key' },
  body: { systemPrompt: 'hi' },
  baseUrl,
  keepaliveIntervalMs: 0,
  ...extra,
});

let emu: UltravoxEmulator;
let joins: RawJoinServer;
before(async () => {
  await initMedia();
  emu = await startUltravoxEmulator({ apiKey: 'uv-key' });
  joins = await RawJoinServer.start();
});
after(async () => {
  await emu.close();
  await joins.close();
  assert.equal(frameClock.running, false, 'no uplink is left on the frame clock');
});

describe('bad parameters', () => {
  test('are refused with VG_ERR_BAD_ARGUMENT before anything is sent', async () => {
    const cases: unknown[] = [
      { endpoint: 'Create' },
      { endpoint: HTTPEndpoint.JOIN_CALL },
      { endpoint: HTTPEndpoint.JOIN_CALL, joinUrl: 'https://example.com/join' },
      { endpoint: HTTPEndpoint.CREATE_AGENT_CALL, pathParameters: {} },
      { endpoint: HTTPEndpoint.CREATE_CALL, authorizations: 'X-API-Key: k' },
      {
        endpoint: HTTPEndpoint.CREATE_CALL,
        body: { medium: { serverWebSocket: { inputSampleRate: 12345 } } },
      },
      { endpoint: HTTPEndpoint.CREATE_CALL, inputSampleRate: 7000 },
    ];
    for (const parameters of cases) {
      await assert.rejects(createWebSocketAPIClient(parameters as WebSocketAPIClientParameters), {
        code: 'VG_ERR_BAD_ARGUMENT',
      });
    }
  });
});

describe('HTTP failures of the create call', () => {
  test('4xx: VG_ERR_UPSTREAM_HTTP with the status and the body, not retryable', async () => {
    await assert.rejects(
      createWebSocketAPIClient(create(emu.baseUrl, { authorizations: { 'X-API-Key': 'wrong' } })),
      {
        code: 'VG_ERR_UPSTREAM_HTTP',
        status: 401,
        retryable: false,
        details: { endpoint: 'CreateCall', status: 401, body: { detail: 'Invalid API key.' } },
      },
    );
    const bad = await createWebSocketAPIClient(create(emu.baseUrl, { body: { temperature: 'hot' } })).catch(
      (e) => e,
    );
    assert.equal(bad.code, 'VG_ERR_UPSTREAM_HTTP');
    assert.equal(bad.status, 400);
    assert.ok(Array.isArray(bad.details.body.temperature));
    const agent = await createWebSocketAPIClient(
      create(emu.baseUrl, {
        endpoint: HTTPEndpoint.CREATE_AGENT_CALL,
        pathParameters: { agent_id: 'a-1' },
        authorizations: {},
      }),
    ).catch((e) => e);
    assert.equal(agent.status, 401);
    assert.deepEqual(agent.details.body, { detail: 'Authentication credentials were not provided.' });
    assert.equal(agent.details.endpoint, 'CreateAgentCall');
  });

  test('5xx: VG_ERR_UPSTREAM_HTTP, retryable, with a text body; 201 without a joinUrl: VG_ERR_UPSTREAM_PROTOCOL', async () => {
    const down = await httpServer((res) =>
      res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance'),
    );
    const broken = await httpServer((res) =>
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"callId":"c"}'),
    );
    try {
      await assert.rejects(createWebSocketAPIClient(create(down.url)), {
        code: 'VG_ERR_UPSTREAM_HTTP',
        status: 503,
        retryable: true,
        details: { endpoint: 'CreateCall', status: 503, body: 'maintenance' },
      });
      await assert.rejects(createWebSocketAPIClient(create(broken.url)), {
        code: 'VG_ERR_UPSTREAM_PROTOCOL',
      });
    } finally {
      await down.close();
      await broken.close();
    }
  });

  test('unreachable: VG_ERR_CONNECT_FAILED; no answer: VG_ERR_CONNECT_TIMEOUT; close() meanwhile: _ABORTED', async () => {
    const port = await closedPort();
    await assert.rejects(createWebSocketAPIClient(create(`http://127.0.0.1:${port}`)), {
      code: 'VG_ERR_CONNECT_FAILED',
      details: { errno: 'ECONNREFUSED' },
    });
    const silent = await silentServer();
    const httpBase = silent.url.replace(/^ws/, 'http').replace(/\/v1\/realtime$/, '');
    try {
      await assert.rejects(createWebSocketAPIClient(create(httpBase, { connectTimeoutMs: 200 })), {
        code: 'VG_ERR_CONNECT_TIMEOUT',
      });
      const client = new WebSocketAPIClient(create(httpBase));
      const connecting = client.connect();
      await sleep(50);
      client.close();
      await assert.rejects(connecting, { code: 'VG_ERR_CONNECT_ABORTED' });
      assert.equal(client.closed, true);
    } finally {
      await silent.close();
    }
  });
});

describe('the join socket', () => {
  test('a refused join: VG_ERR_UPSTREAM_HTTP with the status', async () => {
    const refusing = await RawJoinServer.start({ refuse: 403 });
    try {
      await assert.rejects(
        createWebSocketAPIClient({
          endpoint: HTTPEndpoint.JOIN_CALL,
          joinUrl: refusing.url,
          keepaliveIntervalMs: 0,
        }),
        { code: 'VG_ERR_UPSTREAM_HTTP', status: 403 },
      );
    } finally {
      await refusing.close();
    }
    const ended = `ws://127.0.0.1:${emu.port}/calls/00000000-0000-4000-8000-000000000000/join`;
    await assert.rejects(createWebSocketAPIClient({ endpoint: HTTPEndpoint.JOIN_CALL, joinUrl: ended }), {
      code: 'VG_ERR_UPSTREAM_HTTP',
      status: 404,
    });
  });

  async function joined(extra: Partial<WebSocketAPIClientParameters> = {}) {
    const closes: ConnectorCloseEvent<WebSocketAPIClient>[] = [];
    const errors: ConnectorEvent<WebSocketAPIClient>[] = [];
    const pending = createWebSocketAPIClient({
      endpoint: HTTPEndpoint.JOIN_CALL,
      joinUrl: joins.url,
      keepaliveIntervalMs: 0,
      onWebSocketClose: (e) => closes.push(e),
      ...extra,
    });
    const peer = await joins.next();
    const client = await pending;
    client.addEventListener(WebSocketAPIEvents.WebSocketError, (e) => errors.push(e));
    return { client, peer, closes, errors };
  }

  test('closed mid-call by the server: WebSocketError VG_ERR_UPSTREAM_CLOSED, onWebSocketClose once, audio stopped', async () => {
    const { client, peer, closes, errors } = await joined();
    peer.ws.close(1011, 'internal error');
    while (closes.length === 0) await sleep(10);
    await sleep(50);
    assert.equal(client.closed, true);
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.code, 1011);
    assert.equal(closes[0]!.wasClean, false);
    assert.equal(closes[0]!.error?.code, 'VG_ERR_UPSTREAM_CLOSED');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.data.customEvent, 'close');
    assert.equal(errors[0]!.data.error?.code, 'VG_ERR_UPSTREAM_CLOSED');
    assert.equal(errors[0]!.data.error?.closeCode, 1011);
    client.close();
    assert.equal(closes.length, 1, 'close() afterwards is a no-op');
    assert.throws(() => client.userTextMessage({ text: 'hello?' }), { code: 'VG_ERR_INVALID_STATE' });
  });

  test('a normal close (1000, the call is over) is not an error; a dropped connection (1006) is', async () => {
    const normal = await joined();
    normal.peer.ws.close(1000, 'agent_hangup');
    while (normal.closes.length === 0) await sleep(10);
    assert.deepEqual(
      {
        code: normal.closes[0]!.code,
        reason: normal.closes[0]!.reason,
        wasClean: normal.closes[0]!.wasClean,
      },
      { code: 1000, reason: 'agent_hangup', wasClean: true },
    );
    assert.equal(normal.errors.length, 0);

    const dropped = await joined();
    dropped.peer.ws.terminate();
    while (dropped.closes.length === 0) await sleep(10);
    assert.equal(dropped.closes[0]!.code, 1006);
    assert.equal(dropped.errors[0]?.data.error?.code, 'VG_ERR_UPSTREAM_CLOSED');
  });

  test('malformed JSON and messages missing documented fields: WebSocketError, and the call goes on', async () => {
    const { client, peer, errors } = await joined();
    const states: unknown[] = [];
    client.addEventListener(WebSocketAPIEvents.State, (e) => states.push(e.data.payload));
    const invocations: unknown[] = [];
    client.addEventListener(WebSocketAPIEvents.ClientToolInvocation, (e) => invocations.push(e));
    peer.send('{not json');
    peer.send({ state: 'idle' });
    peer.send({ type: 'client_tool_invocation', toolName: 'x', parameters: {} });
    peer.send({ type: 'transcript', role: 'agent', text: 'hi' });
    peer.send({ type: 'state', state: 'listening' });
    while (states.length === 0) await sleep(10);
    assert.deepEqual(
      errors.map((e) => [e.data.customEvent, e.data.error?.code, e.data.error?.details?.type]),
      [
        ['protocol_error', 'VG_ERR_UPSTREAM_PROTOCOL', undefined],
        ['protocol_error', 'VG_ERR_UPSTREAM_PROTOCOL', undefined],
        ['protocol_error', 'VG_ERR_UPSTREAM_PROTOCOL', 'client_tool_invocation'],
        ['protocol_error', 'VG_ERR_UPSTREAM_PROTOCOL', 'transcript'],
      ],
    );
    assert.equal(invocations.length, 0, 'an incomplete invocation is not delivered');
    assert.deepEqual(states, [{ type: 'state', state: 'listening' }]);
    assert.equal(client.stats.protocolErrors, 4);
    assert.equal(client.closed, false);
    client.close();
  });

  test('closeOnProtocolError: true ends the call on the first bad message', async () => {
    const { client, peer, closes } = await joined({ closeOnProtocolError: true });
    peer.send('{not json');
    assert.equal((await peer.closed).code, 1000);
    assert.equal(client.closed, true);
    assert.equal(closes.length, 1);
  });

  test('keepalive: a server that stops answering pings is closed with VG_ERR_KEEPALIVE_TIMEOUT', async () => {
    const { client, peer, closes, errors } = await joined({
      keepaliveIntervalMs: 50,
      keepaliveTimeoutMs: 150,
    });
    const ping = JSON.parse(await peer.text('ping')) as { type: string; timestamp: number };
    assert.ok(Math.abs(ping.timestamp - Date.now() / 1000) < 5, 'timestamp: unix seconds');
    assert.deepEqual(await peer.closed, { code: 1011, reason: 'keepalive timeout' });
    const error = await waitFor<ConnectorEvent<WebSocketAPIClient>>((resolve) => {
      if (errors.length > 0) resolve(errors[0]!);
      else client.addEventListener(WebSocketAPIEvents.WebSocketError, resolve);
    }, 'WebSocketError');
    assert.equal(error.data.customEvent, 'keepalive');
    assert.equal(error.data.error?.code, 'VG_ERR_KEEPALIVE_TIMEOUT');
    assert.equal(client.closed, true);
    assert.equal(closes[0]?.code, 1011);
    assert.equal(peer.texts.filter((t) => t.includes('"ping"')).length, 1, 'one ping in flight at a time');
  });
});
