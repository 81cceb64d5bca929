import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertNoHandlesLeft,
  CallClient,
  createCall,
  refusedUpgrade,
  request,
  resources,
  startServer,
  waitFor,
} from '../../test/helpers/server.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from '../media/pcm.js';

/**
 * The call WebSocket against a real server running the echo scenario, with real ws clients: the seed page's own
 * client flow, formats and rates, every refusal with its code, and every way a call ends leaving nothing behind.
 */

describe("the seed page's client flow", () => {
  test('create with JSON, open the URL, send PCM16, hear audio back, end with end-call', async () => {
    const server = await startServer();
    const before = resources();
    try {
      const { id, url } = await createCall(server);
      const client = await CallClient.open(url);
      // The seed's browser example sends 1024-sample Int16Array buffers.
      const pcm = sine(440, 16000, 640);
      for (let off = 0; off < pcm.length; off += 1024) client.send(pcm16Bytes(pcm.subarray(off, off + 1024)));
      await waitFor(() => client.audioBytes().length >= 16000, 3000, 'echoed audio');
      client.send({ type: 'end-call' });
      const closed = await client.closed;
      assert.equal(closed.code, 1000);
      const types = client.types();
      assert.deepEqual(types.slice(-2), ['status-update', 'end-of-call-report']);
      const ended = client.messages.at(-2)!;
      assert.equal(ended.status, 'ended');
      assert.equal(ended.endedReason, 'customer-ended-call');
      const report = client.messages.at(-1)!;
      assert.equal(report.endedReason, 'customer-ended-call');
      assert.equal((report.call as Record<string, unknown>).id, id);
      assert.ok((report.durationMs as number) >= 0);
      await assertNoHandlesLeft(before, server);
      const record = await request('GET', `${server.url}/call/${id}`);
      assert.equal(record.json.status, 'ended');
      assert.equal(record.json.endedReason, 'customer-ended-call');
      assert.ok(typeof record.json.endedAt === 'string');
    } finally {
      await server.close();
    }
  });
});

describe('formats and rates', () => {
  const cases = [
    { format: 'mulaw', sampleRate: 8000 },
    { format: 'pcm_s16le', sampleRate: 16000 },
    { format: 'pcm_s16le', sampleRate: 44100 },
  ] as const;
  for (const audioFormat of cases) {
    test(`${audioFormat.format} at ${audioFormat.sampleRate} hears the echo at its own format with the tone kept`, async () => {
      const server = await startServer();
      try {
        const { url } = await createCall(server, { ...audioFormat, container: 'raw' });
        const client = await CallClient.open(url);
        const rate = audioFormat.sampleRate;
        const tone = sine(1000, rate, 600);
        const wire = audioFormat.format === 'mulaw' ? Buffer.from(ulawEncode(tone)) : pcm16Bytes(tone);
        // Odd-sized chunks: the server re-frames them (a PCM16 sample may straddle two messages).
        for (let off = 0; off < wire.length; off += 999) client.send(wire.subarray(off, off + 999));
        const expected = Math.floor(wire.length / 2);
        await waitFor(() => client.audioBytes().length >= expected, 3000, 'echoed audio');
        const back = client.audioBytes();
        const pcm =
          audioFormat.format === 'mulaw' ? ulawDecode(back) : pcm16View(back.subarray(0, back.length & ~1));
        const hz = dominantFrequency(pcm, rate);
        assert.ok(Math.abs(hz - 1000) < 10, `heard ${hz} Hz`);
        const frameBytes = audioFormat.format === 'mulaw' ? 160 : (rate / 50) * 2;
        assert.equal(client.audio[0]!.length, frameBytes, 'one 20 ms frame per message at the call rate');
        client.ws.close();
        await client.closed;
      } finally {
        await server.close();
      }
    });
  }
});

describe('refusals', () => {
  test('bad token 401, reused token 409, expired token 410, each with its code', async () => {
    const server = await startServer({ timeouts: { tokenTtlMs: 150 } });
    try {
      const { url, id } = await createCall(server);
      const wrong = new URL(url);
      wrong.searchParams.set('token', 'A'.repeat(32));
      assert.deepEqual(await refusedUpgrade(wrong.href), { status: 401, code: 'VG_ERR_BAD_TOKEN' });
      wrong.searchParams.delete('token');
      assert.deepEqual(await refusedUpgrade(wrong.href), { status: 401, code: 'VG_ERR_BAD_TOKEN' });
      assert.deepEqual(await refusedUpgrade(url.replace(id, 'not-a-call')), {
        status: 401,
        code: 'VG_ERR_BAD_TOKEN',
      });

      const client = await CallClient.open(url);
      assert.deepEqual(await refusedUpgrade(url), { status: 409, code: 'VG_ERR_TOKEN_USED' });
      client.ws.close();
      await client.closed;

      const late = await createCall(server);
      await waitFor(() => !server.liveCalls.has(late.id), 2000, 'the token to expire');
      assert.deepEqual(await refusedUpgrade(late.url), { status: 410, code: 'VG_ERR_TOKEN_EXPIRED' });
      const record = await request('GET', `${server.url}/call/${late.id}`);
      assert.equal(record.json.endedReason, 'customer-did-not-answer');
      for (const path of ['/elsewhere', '/session/not-a-session-key']) {
        assert.deepEqual(await refusedUpgrade(`${server.url.replace('http', 'ws')}${path}`), {
          status: 404,
          code: 'VG_ERR_NOT_FOUND',
        });
      }
    } finally {
      await server.close();
    }
  });

  test('an oversized frame gets VG_ERR_FRAME_TOO_LARGE and the call goes on; past the hard cap, close 1009', async () => {
    const server = await startServer({ limits: { maxFrameBytes: 4096, maxSocketMessageBytes: 8192 } });
    try {
      const client = await CallClient.open((await createCall(server)).url);
      client.send(Buffer.alloc(4098));
      const error = await client.waitForMessage((m) => m.type === 'error');
      assert.equal(error.code, 'VG_ERR_FRAME_TOO_LARGE');
      client.send(Buffer.alloc(640));
      await waitFor(() => client.audio.length === 1, 2000, 'the call to go on');
      client.send(Buffer.alloc(9000));
      assert.equal((await client.closed).code, 1009);
    } finally {
      await server.close();
    }
  });

  test('malformed and unknown control get coded errors; the call goes on', async () => {
    const server = await startServer();
    try {
      const client = await CallClient.open((await createCall(server)).url);
      client.send('{"type": "say", ');
      client.send({ type: 'teleport' });
      client.send({ type: 'say' });
      await waitFor(
        () => client.messages.filter((m) => m.type === 'error').length === 3,
        2000,
        'three errors',
      );
      assert.deepEqual(
        client.messages.filter((m) => m.type === 'error').map((m) => m.code),
        ['VG_ERR_BAD_JSON', 'VG_ERR_UNKNOWN_MESSAGE', 'VG_ERR_BAD_MESSAGE'],
      );
      client.send(Buffer.alloc(640));
      await waitFor(() => client.audio.length === 1, 2000, 'the call to go on');
      client.ws.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });
});

describe('ending a call leaves nothing behind', () => {
  test('the caller closing the socket', async () => {
    const server = await startServer();
    const before = resources();
    const { id, url } = await createCall(server);
    const client = await CallClient.open(url);
    client.send(Buffer.alloc(640 * 5));
    await waitFor(() => client.audio.length === 5, 2000, 'echo');
    client.ws.close();
    await client.closed;
    await waitFor(() => !server.liveCalls.has(id), 1000, 'the call to end');
    assert.equal((await request('GET', `${server.url}/call/${id}`)).json.endedReason, 'customer-ended-call');
    await assertNoHandlesLeft(before, server);
    await server.close();
  });

  test('Live Call Control over HTTP: say reaches the call, end-call ends it', async () => {
    const server = await startServer({ timeouts: { hangNoticeMs: 150 } });
    const before = resources();
    const { id, url } = await createCall(server);
    const control = `${server.url}/call/${id}/control`;
    const early = await request('POST', control, { type: 'say', content: 'hi' });
    assert.equal(early.status, 409);
    assert.equal(early.json.code, 'VG_ERR_INVALID_STATE');
    const client = await CallClient.open(url);
    const bad = await request('POST', control, { type: 'say' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'VG_ERR_BAD_MESSAGE');
    const say = await request('POST', control, { type: 'say', content: 'Hello there' });
    assert.deepEqual(say.json, { id, type: 'say', status: 'accepted' });
    // The echo never speaks, so the hang notice follows.
    await client.waitForMessage((m) => m.type === 'hang');
    const end = await request('POST', control, { type: 'end-call' });
    assert.equal(end.status, 200);
    assert.equal((await client.closed).code, 1000);
    assert.equal(client.messages.at(-1)!.endedReason, 'api-ended-call');
    const after = await request('POST', control, { type: 'end-call' });
    assert.equal(after.status, 409);
    assert.equal(after.json.code, 'VG_ERR_CALL_ENDED');
    assert.equal((await request('GET', `${server.url}/call/${id}`)).json.endedReason, 'api-ended-call');
    await assertNoHandlesLeft(before, server);
    await server.close();
  });

  test('server shutdown ends live and queued calls with server-shutdown and closes with 1001', async () => {
    const before = resources();
    const server = await startServer();
    const live = await createCall(server);
    const queued = await createCall(server);
    const client = await CallClient.open(live.url);
    client.send(Buffer.alloc(640));
    await waitFor(() => client.audio.length === 1, 2000, 'echo');
    await server.close();
    const closed = await client.closed;
    assert.equal(closed.code, 1001);
    assert.deepEqual(client.types().slice(-2), ['status-update', 'end-of-call-report']);
    assert.equal(client.messages.at(-1)!.endedReason, 'server-shutdown');
    assert.equal((await server.registry.get(live.id))?.endedReason, 'server-shutdown');
    assert.equal((await server.registry.get(queued.id))?.endedReason, 'server-shutdown');
    await assertNoHandlesLeft(before, server);
  });

  test('an idle caller is ended with idle-timeout', async () => {
    const server = await startServer({ timeouts: { idleMs: 200 } });
    const before = resources();
    const { id, url } = await createCall(server);
    const client = await CallClient.open(url);
    assert.equal((await client.closed).code, 1000);
    assert.equal(client.messages.at(-1)!.endedReason, 'idle-timeout');
    assert.equal((await server.registry.get(id))?.endedReason, 'idle-timeout');
    await assertNoHandlesLeft(before, server);
    await server.close();
  });
});

describe('messages from the agent side', () => {
  test('transcripts and speech updates reach the client; finals are kept in the call and the report', async () => {
    const server = await startServer();
    try {
      const { id, url } = await createCall(server);
      const client = await CallClient.open(url);
      await client.waitForMessage((m) => m.type === 'status-update');
      const call = server.liveCalls.get(id)!;
      call.messages.speechUpdate('user', 'started');
      call.messages.transcript('user', 'I need', false);
      call.messages.transcript('user', 'I need a taxi', true);
      call.messages.speechUpdate('assistant', 'started');
      call.messages.transcript('assistant', 'Where to?', true);
      call.messages.userInterrupted();
      await waitFor(() => client.types().includes('user-interrupted'), 2000, 'messages');
      const transcripts = client.messages.filter((m) => m.type === 'transcript');
      assert.deepEqual(
        transcripts.map((m) => [m.role, m.transcriptType, m.transcript]),
        [
          ['user', 'partial', 'I need'],
          ['user', 'final', 'I need a taxi'],
          ['assistant', 'final', 'Where to?'],
        ],
      );
      const speech = client.messages.find((m) => m.type === 'speech-update')!;
      assert.deepEqual([speech.role, speech.status, speech.turn], ['user', 'started', 0]);
      assert.equal(client.messages.find((m) => m.type === 'user-interrupted')!.turnId, '0');
      const record = await request('GET', `${server.url}/call/${id}`);
      assert.deepEqual(
        (record.json.messages as { role: string; message: string }[]).map((m) => [m.role, m.message]),
        [
          ['user', 'I need a taxi'],
          ['bot', 'Where to?'],
        ],
      );
      client.send({ type: 'hangup' });
      await client.closed;
      const report = client.messages.at(-1)!;
      assert.equal(report.type, 'end-of-call-report');
      assert.equal(report.transcript, 'User: I need a taxi\nAI: Where to?');
    } finally {
      await server.close();
    }
  });
});
