/**
 * Messages a scenario sends its caller (`call.sendMessage`) are shaped by the server: Vapi's transcript,
 * speech-update and user-interrupted in exactly the server's shapes (timestamps, turn counters, the interrupted
 * turn), finals recorded for `GET /call/:id`; malformed ones and the server's own types dropped.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { CallClient, createCall, request, startServer, waitFor } from '../../test/helpers/server.js';
import type { CallSession, LiveCall } from './liveCall.js';

test('scenario messages reach the caller in Vapi shapes and finals are recorded', async () => {
  let live: LiveCall | undefined;
  const server = await startServer(
    {},
    {
      startSession: (call) => {
        live = call;
        const session = new EventEmitter() as EventEmitter & CallSession;
        session.terminate = (reason) => session.emit('terminated', { reason });
        return session;
      },
    },
  );
  try {
    const { id, url } = await createCall(server);
    const client = await CallClient.open(url);
    const send = (m: Record<string, unknown>) => live!.scenarioMessage(m);
    send({ type: 'speech-update', role: 'assistant', status: 'started' });
    send({ type: 'transcript', role: 'assistant', transcriptType: 'partial', transcript: 'Hel' });
    send({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Hello!' });
    send({ type: 'user-interrupted', turnId: 'made-up' });
    send({ type: 'speech-update', role: 'user', status: 'started' });
    send({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'weather in Paris' });
    send({ type: 'transcript', role: 'robot', transcriptType: 'final', transcript: 'dropped' });
    send({ type: 'speech-update', role: 'user', status: 'talking' });
    send({ type: 'status-update', status: 'ended' });
    send({ type: 'end-of-call-report' });
    send({ type: 'model-output', output: 'kept as is' });
    await waitFor(() => client.messages.some((m) => m.type === 'model-output'));
    const got = client.messages
      .filter((m) => m.type !== 'status-update')
      .map(({ timestamp, ...rest }) => {
        assert.equal(typeof timestamp === 'number' || rest.type === 'model-output', true);
        return rest;
      });
    assert.deepEqual(got, [
      { type: 'speech-update', status: 'started', role: 'assistant', turn: 0 },
      { type: 'transcript', role: 'assistant', transcriptType: 'partial', transcript: 'Hel' },
      { type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Hello!' },
      { type: 'user-interrupted', turnId: '0' },
      { type: 'speech-update', status: 'started', role: 'user', turn: 0 },
      { type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'weather in Paris' },
      { type: 'model-output', output: 'kept as is' },
    ]);
    const call = await request('GET', `${server.url}/call/${id}`);
    assert.deepEqual(
      (call.json.messages as { role: string; message: string }[]).map((m) => [m.role, m.message]),
      [
        ['bot', 'Hello!'],
        ['user', 'weather in Paris'],
      ],
    );
    client.send({ type: 'end-call' });
    await client.closed;
  } finally {
    await server.close();
  }
});
