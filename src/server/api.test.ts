import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCall, refusedUpgrade, request, startServer } from '../../test/helpers/server.js';
import type { VoxgateServer } from './server.js';

const PCM = { format: 'pcm_s16le', container: 'raw', sampleRate: 16000 };

describe('POST /call', () => {
  let server: VoxgateServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("answers 201 in Vapi's shape with an unguessable single-use call URL", async () => {
    const { body, url, id } = await createCall(server, PCM, {
      assistantId: 'my-assistant',
      metadata: { a: 1 },
    });
    assert.equal(body.type, 'vapi.websocketCall');
    assert.equal(body.status, 'queued');
    assert.equal(body.assistantId, 'my-assistant');
    assert.ok(!Number.isNaN(Date.parse(body.createdAt as string)));
    assert.equal(body.createdAt, body.updatedAt);
    assert.deepEqual((body.transport as Record<string, unknown>).audioFormat, PCM);
    const parsed = new URL(url);
    assert.equal(parsed.protocol, 'ws:');
    assert.equal(parsed.pathname, `/call/${id}/transport`);
    const token = parsed.searchParams.get('token')!;
    assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 bits');
    // The URL is only ever in the create reply.
    const again = await request('GET', `${server.url}/call/${id}`);
    assert.equal(again.status, 200);
    assert.ok(!again.text.includes(token));
  });

  test('applies the documented defaults: pcm_s16le at 16000, mulaw at 8000', async () => {
    const none = await request('POST', `${server.url}/call`, { transport: { provider: 'vapi.websocket' } });
    assert.equal(none.status, 201);
    assert.deepEqual((none.json.transport as Record<string, unknown>).audioFormat, PCM);
    const mulaw = await createCall(server, { format: 'mulaw' });
    assert.deepEqual((mulaw.body.transport as Record<string, unknown>).audioFormat, {
      format: 'mulaw',
      container: 'raw',
      sampleRate: 8000,
    });
  });

  const invalid: [string, unknown, string][] = [
    ['no transport', {}, 'transport'],
    ['another provider', { transport: { provider: 'daily' } }, 'transport.provider'],
    [
      'an unknown format',
      { transport: { provider: 'vapi.websocket', audioFormat: { format: 'opus' } } },
      'transport.audioFormat.format',
    ],
    [
      'a container other than raw',
      { transport: { provider: 'vapi.websocket', audioFormat: { container: 'wav' } } },
      'transport.audioFormat.container',
    ],
    [
      'an unsupported rate',
      { transport: { provider: 'vapi.websocket', audioFormat: { sampleRate: 12345 } } },
      'transport.audioFormat.sampleRate',
    ],
    [
      'a rate that is a string',
      { transport: { provider: 'vapi.websocket', audioFormat: { sampleRate: '16000' } } },
      'transport.audioFormat.sampleRate',
    ],
    [
      'a phoneNumberId',
      { phoneNumberId: 'pn_1', transport: { provider: 'vapi.websocket' } },
      'phoneNumberId',
    ],
    [
      'a phoneNumber',
      { phoneNumber: { number: '+15550100' }, transport: { provider: 'vapi.websocket' } },
      'phoneNumber',
    ],
    [
      'metadata that is not an object',
      { metadata: 'x', transport: { provider: 'vapi.websocket' } },
      'metadata',
    ],
    ['an empty assistantId', { assistantId: '', transport: { provider: 'vapi.websocket' } }, 'assistantId'],
  ];
  for (const [what, body, field] of invalid) {
    test(`400 VG_ERR_BAD_REQUEST naming ${field} for ${what}`, async () => {
      const reply = await request('POST', `${server.url}/call`, body);
      assert.equal(reply.status, 400);
      assert.equal(reply.json.code, 'VG_ERR_BAD_REQUEST');
      assert.equal(reply.json.statusCode, 400);
      assert.ok(reply.json.message!.startsWith(`${field}:`), reply.json.message);
    });
  }

  test('400 VG_ERR_BAD_JSON for a body that is not JSON, VG_ERR_BAD_REQUEST for a non-object', async () => {
    const bad = await request('POST', `${server.url}/call`, '{"transport":');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'VG_ERR_BAD_JSON');
    const array = await request('POST', `${server.url}/call`, '[1]');
    assert.equal(array.json.code, 'VG_ERR_BAD_REQUEST');
  });

  test('413 VG_ERR_BODY_TOO_LARGE past limits.maxBodyBytes', async () => {
    const reply = await request('POST', `${server.url}/call`, {
      transport: { provider: 'vapi.websocket' },
      metadata: { pad: 'x'.repeat(70_000) },
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.json.code, 'VG_ERR_BODY_TOO_LARGE');
  });
});

describe('call routes', () => {
  let server: VoxgateServer;
  before(async () => {
    server = await startServer({ limits: { maxCalls: 2 } });
  });
  after(() => server.close());

  test('GET /call/:id shows a call; 404 VG_ERR_NOT_FOUND for an unknown one', async () => {
    const { id } = await createCall(server);
    const reply = await request('GET', `${server.url}/call/${id}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.json.id, id);
    assert.equal(reply.json.status, 'queued');
    assert.deepEqual(reply.json.messages, []);
    assert.equal(
      (reply.json.monitor as Record<string, string>).controlUrl,
      `${server.url}/call/${id}/control`,
    );
    const missing = await request('GET', `${server.url}/call/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 'VG_ERR_NOT_FOUND');
  });

  test('429 VG_ERR_TOO_MANY_CALLS past limits.maxCalls; GET /call lists the newest first', async () => {
    while (server.liveCalls.size < 2) await createCall(server);
    const reply = await request('POST', `${server.url}/call`, { transport: { provider: 'vapi.websocket' } });
    assert.equal(reply.status, 429);
    assert.equal(reply.json.code, 'VG_ERR_TOO_MANY_CALLS');
    const list = await request('GET', `${server.url}/call?limit=1`);
    assert.equal((list.json as unknown as unknown[]).length, 1);
    const bad = await request('GET', `${server.url}/call?limit=0`);
    assert.equal(bad.json.code, 'VG_ERR_BAD_REQUEST');
  });

  test('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    const none = await request('GET', `${server.url}/nothing`);
    assert.equal(none.status, 404);
    assert.equal(none.json.code, 'VG_ERR_NOT_FOUND');
    const wrong = await request('DELETE', `${server.url}/call`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.json.code, 'VG_ERR_METHOD_NOT_ALLOWED');
    assert.equal(wrong.headers.allow, 'POST, GET');
  });

  test('GET /healthz and GET /metrics (Prometheus text)', async () => {
    const health = await request('GET', `${server.url}/healthz`);
    // The configured agent (the local one by default; not started here: the echo scenario does not use it).
    assert.deepEqual(health.json, { status: 'ok', agent: 'local' });
    const metrics = await request('GET', `${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const name of [
      'voxgate_calls_active',
      'voxgate_frames_in_total',
      'voxgate_frames_out_total',
      'voxgate_frames_dropped_total',
      'voxgate_bytes_in_total',
      'voxgate_bytes_out_total',
      'voxgate_frame_forward_seconds_bucket{le="+Inf"}',
    ]) {
      assert.match(metrics.text, new RegExp(`^${name.replace(/[{}+"=]/g, '\\$&')} \\d`, 'm'), name);
    }
    assert.match(metrics.text, /^voxgate_calls_active 2$/m);
  });
});

describe('auth', () => {
  const key = 'test-key-0123456789';
  let server: VoxgateServer;
  before(async () => {
    server = await startServer({ apiKey: key });
  });
  after(() => server.close());

  test('401 VG_ERR_UNAUTHORIZED without the key or with a wrong one, on every API route', async () => {
    for (const [method, path] of [
      ['POST', '/call'],
      ['GET', '/call'],
      ['GET', '/call/x'],
      ['POST', '/call/x/control'],
      ['GET', '/metrics'],
    ] as const) {
      const missing = await request(method, `${server.url}${path}`, {});
      assert.equal(missing.status, 401, `${method} ${path}`);
      assert.equal(missing.json.code, 'VG_ERR_UNAUTHORIZED');
      const wrong = await request(
        method,
        `${server.url}${path}`,
        {},
        { authorization: 'Bearer wrong-key-0000000' },
      );
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.code, 'VG_ERR_UNAUTHORIZED');
      assert.ok(!wrong.text.includes(key));
    }
    assert.equal((await request('GET', `${server.url}/healthz`)).status, 200, 'health stays open for probes');
  });

  test('the right key works; a call socket with a wrong key is refused even with a good token', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const { url } = await createCall(server, undefined, {}, auth);
    assert.deepEqual(await refusedUpgrade(url, { authorization: 'Bearer not-the-key-000' }), {
      status: 401,
      code: 'VG_ERR_UNAUTHORIZED',
    });
  });
});
