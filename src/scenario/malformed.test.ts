/**
 * Bad input from a WebSocket peer gets a logged, coded error; the session and its audio go on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { ULAW_8K } from '../media/format.js';
import { ulawDecode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16Bytes, sine } from '../media/pcm.js';
import { defineScenario, startSession } from './runtime.js';
import { MemoryTransport } from './testing.js';
import { captureLogs, PeerServer } from './testPeer.js';
import { AppEvents, CallEvents, VoxEngine, WebSocketEvents } from './voxengine.js';

let server: PeerServer;

before(async () => {
  await initMedia();
  server = await PeerServer.start();
});
after(() => server.close());

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('malformed input from a WebSocket peer', () => {
  it('is logged with a code, surfaced on the session, and the session goes on', async () => {
    const logs = captureLogs();
    try {
      const transport = new MemoryTransport(ULAW_8K);
      const texts: string[] = [];
      const started: unknown[] = [];
      const scenario = defineScenario('malformed', () => {
        VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
          const ws = VoxEngine.createWebSocket(server.url);
          ws.addEventListener(WebSocketEvents.MESSAGE, (e) => texts.push(e.text));
          ws.addEventListener(WebSocketEvents.MEDIA_STARTED, (e) => started.push(e));
          call.addEventListener(CallEvents.Connected, () => ws.sendMediaTo(call));
          call.answer();
        });
      });
      const session = startSession(scenario, { transport, callId: 'call-malformed' });
      const errors: VoxgateError[] = [];
      session.on('error', (e) => errors.push(e));
      const peer = await server.nextConnection();
      await sleep(50);

      const payload = Buffer.alloc(320).toString('base64');
      peer.sendText('hello, not JSON'); // their own protocol: a message, no error
      peer.sendText('{"event": "start", '); // bad JSON
      peer.sendJson({ event: 'dance' }); // unknown event
      peer.sendJson({ event: 'media', media: { payload } }); // missing start
      peer.sendJson({ event: 'start', start: { mediaFormat: { encoding: 'PCM16', sampleRate: 8000 } } }); // rate mismatch
      peer.sendJson({ event: 'start', start: { mediaFormat: { encoding: 'PCM8', sampleRate: '8000' } } }); // fine
      peer.sendJson({ event: 'media', media: { payload: 'not base64!' } });
      peer.sendJson({ event: 'media', media: { chunk: { n: 1 }, payload } }); // wrong type
      peer.sendJson({ event: 'start' }); // no start body
      peer.socket.send(Buffer.from([1, 2, 3]), { binary: true });

      const expected = [
        ErrorCodes.BAD_JSON,
        ErrorCodes.UNKNOWN_MESSAGE,
        ErrorCodes.MEDIA_BEFORE_START,
        ErrorCodes.BAD_MEDIA_FORMAT,
        ErrorCodes.BAD_BASE64,
        ErrorCodes.BAD_MESSAGE,
      ];
      await until(() => errors.length >= expected.length);
      assert.deepEqual(
        errors.map((e) => e.code),
        expected,
      );
      for (const code of expected) {
        const record = logs.records.find((r) => r.code === code);
        assert.ok(record, `a log record carries ${code}`);
        assert.equal(record.level, 'warn');
        assert.equal(record.callId, 'call-malformed');
        assert.equal(record.msg, 'session error', 'static message; the code is a field');
      }
      assert.ok(
        logs.records.some((r) => r.level === 'debug' && r.code === ErrorCodes.BAD_MESSAGE && r.count === 2),
        'a repeated problem is counted at debug level, not reported again',
      );
      const mismatch = errors.find((e) => e.code === ErrorCodes.BAD_MEDIA_FORMAT)!;
      assert.deepEqual(mismatch.details, { encoding: 'PCM16', sampleRate: 8000, expectedSampleRate: 16000 });
      assert.deepEqual(texts, ['hello, not JSON', '{"event": "start", ', '{"event":"dance"}']);
      assert.equal(session.state, 'running');

      // The valid start (numbers as strings) still works: audio plays and MEDIA_STARTED fires.
      await peer.sendAudio(undefined, pcm16Bytes(sine(800, 8000, 400)), 320);
      await until(() => transport.sent.length >= 20);
      assert.equal(started.length, 1);
      assert.ok(Math.abs(dominantFrequency(ulawDecode(transport.sentAudio()), 8000) - 800) < 10);
      session.terminate();
    } finally {
      logs.restore();
    }
  });
});
