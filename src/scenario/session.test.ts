/**
 * The session runtime: safe emit, the session context, the call's events, termination and cleanup.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { frameClock } from '../graph/clock.js';
import { TestSink } from '../graph/testUnits.js';
import { ULAW_8K } from '../media/format.js';
import { ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { pcm16Bytes, sine } from '../media/pcm.js';
import { defineScenario, startSession } from './runtime.js';
import type { Session } from './session.js';
import { MemoryTransport } from './testing.js';
import { captureLogs, PeerServer } from './testPeer.js';
import type { Call } from './voxengine.js';
import { AppEvents, CallEvents, Logger, VoxEngine, WebSocket, WebSocketEvents } from './voxengine.js';

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

function errorsOf(session: Session): VoxgateError[] {
  const errors: VoxgateError[] = [];
  session.on('error', (e) => errors.push(e));
  return errors;
}

describe('safe emit', () => {
  it('a throwing handler is logged and surfaced; audio keeps flowing; other sessions never notice', async () => {
    const logs = captureLogs();
    try {
      const scenario = defineScenario('throws', () => {
        VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, customData }) => {
          const ws = VoxEngine.createWebSocket(`${server.url}?${customData}`);
          call.addEventListener(CallEvents.Connected, () => {
            VoxEngine.sendMediaBetween(call, ws);
            if (customData === 'bad') throw new Error('scenario bug');
          });
          ws.addEventListener(WebSocketEvents.MEDIA_STARTED, async () => {
            if (customData === 'bad') throw new Error('async scenario bug');
          });
          call.answer();
        });
      });
      const bad = new MemoryTransport(ULAW_8K);
      const good = new MemoryTransport(ULAW_8K);
      const badSession = startSession(scenario, { transport: bad, customData: 'bad', callId: 'bad-call' });
      const goodSession = startSession(scenario, { transport: good, customData: 'good' });
      const badErrors = errorsOf(badSession);
      const goodErrors = errorsOf(goodSession);
      const peers = [await server.nextConnection(), await server.nextConnection()];
      const badPeer = peers.find((p) => p.request.url?.endsWith('bad'))!;
      await until(() => badErrors.length === 1);
      assert.equal(badErrors[0]!.code, ErrorCodes.HANDLER_THREW);
      assert.match(badErrors[0]!.message, /Call\.Connected threw: scenario bug/);
      assert.equal((badErrors[0]!.cause as Error).message, 'scenario bug');
      const logged = logs.records.find((r) => r.code === ErrorCodes.HANDLER_THREW);
      assert.equal(logged?.callId, 'bad-call');

      // The media route made before the throw still carries audio both ways.
      bad.injectAudio(ulawEncode(sine(300, 8000, 200)));
      await badPeer.waitFor((m) => m.json?.event === 'media' && m.json.media.chunk === 9);
      badPeer.sendStart(undefined, 'PCM8', 8000);
      await badPeer.sendAudio(undefined, pcm16Bytes(sine(300, 8000, 200)), 320);
      await until(() => bad.sent.length >= 10 && badErrors.length === 2);
      assert.match(badErrors[1]!.message, /WebSocket\.MediaEventStarted threw: async scenario bug/);
      assert.equal(goodErrors.length, 0);
      assert.equal(goodSession.state, 'running');
      badSession.terminate();
      goodSession.terminate();
    } finally {
      logs.restore();
    }
  });

  it('a handler that is not a function is refused where it is given (VG_ERR_BAD_HANDLER)', async () => {
    assert.throws(
      () =>
        defineScenario('bad-top', () => VoxEngine.addEventListener(AppEvents.CallAlerting, 'oops' as never)),
      (err: VoxgateError) =>
        err.code === ErrorCodes.BAD_HANDLER && /must be a function, got a string/.test(err.message),
    );
    const codes: string[] = [];
    const scenario = defineScenario('bad-handlers', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(server.url);
        for (const attempt of [
          () => call.addEventListener(CallEvents.Connected, {} as never),
          () => ws.addEventListener(WebSocketEvents.OPEN, 42 as never),
          () => {
            ws.onmessage = 'not a function' as never;
          },
          () => VoxEngine.addEventListener(AppEvents.Terminating, null as never),
        ]) {
          try {
            attempt();
          } catch (err) {
            codes.push((err as VoxgateError).code);
          }
        }
        ws.onmessage = null;
        ws.close();
      });
    });
    const session = startSession(scenario, { transport: new MemoryTransport() });
    await until(() => codes.length === 4);
    assert.deepEqual(codes, Array(4).fill(ErrorCodes.BAD_HANDLER));
    session.terminate();
  });
});

describe('the session context', () => {
  it('VoxEngine functions act on the right session, in async continuations too', async () => {
    const seen: string[] = [];
    const scenario = defineScenario('context', () => {
      VoxEngine.addEventListener(AppEvents.Started, async () => {
        const mine = `session ${VoxEngine.customData()}`;
        await sleep(20);
        VoxEngine.customData(mine);
        await sleep(20);
        seen.push(VoxEngine.customData());
      });
    });
    const sessions = ['a', 'b', 'c'].map((id) =>
      startSession(scenario, { transport: new MemoryTransport(), customData: id }),
    );
    await until(() => seen.length === 3);
    assert.deepEqual(seen.sort(), ['session a', 'session b', 'session c']);
    for (const s of sessions) s.terminate();
  });

  it('customData holds at most 200 UTF-8 bytes (VG_ERR_CUSTOM_DATA_TOO_LONG)', async () => {
    const results: (string | undefined)[] = [];
    const scenario = defineScenario('custom-data', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        results.push(VoxEngine.customData('x'.repeat(200)).length.toString());
        for (const value of ['x'.repeat(201), 'é'.repeat(101)]) {
          try {
            VoxEngine.customData(value);
          } catch (err) {
            results.push((err as VoxgateError).code);
          }
        }
        try {
          call.customData('y'.repeat(300));
        } catch (err) {
          results.push((err as VoxgateError).code);
        }
      });
    });
    const session = startSession(scenario, { transport: new MemoryTransport() });
    await until(() => results.length === 4);
    assert.deepEqual(results, ['200', ...Array(3).fill(ErrorCodes.CUSTOM_DATA_TOO_LONG)]);
    session.terminate();
  });

  it('outside a session, session functions throw VG_ERR_INVALID_STATE', () => {
    for (const f of [
      () => VoxEngine.terminate(),
      () => VoxEngine.createWebSocket(server.url),
      () => new WebSocket(server.url),
    ]) {
      assert.throws(
        f,
        (err: VoxgateError) =>
          err.code === ErrorCodes.INVALID_STATE && /inside a VoxEngine event handler/.test(err.message),
      );
    }
    assert.throws(() => VoxEngine.addEventListener(AppEvents.Started, () => {}), {
      code: ErrorCodes.INVALID_STATE,
    });
  });
});

describe('the call and the session lifecycle', () => {
  it('answer → Connected; audio before it is dropped; control → MessageReceived; hangup → Disconnected', async () => {
    const events: string[] = [];
    let theCall: Call | undefined;
    const transport = new MemoryTransport(ULAW_8K);
    const sink = new TestSink(ULAW_8K);
    const scenario = defineScenario('call-events', () => {
      VoxEngine.addEventListener(AppEvents.Started, (e) => events.push(`started:${e.sessionId.length}`));
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call, callerid, headers }) => {
        theCall = call;
        events.push(`alerting:${callerid}:${JSON.stringify(headers)}:${call.state()}`);
        call.sendMediaTo(sink);
        call.addEventListener(CallEvents.Connected, () => events.push(`connected:${call.state()}`));
        call.addEventListener(CallEvents.MessageReceived, (e) => {
          events.push(`message:${e.text}`);
          if (JSON.parse(e.text).control === 'answer') call.answer();
        });
        call.addEventListener(CallEvents.Disconnected, (e) => events.push(`disconnected:${e.reason}`));
        VoxEngine.addEventListener(AppEvents.Terminating, () => events.push('terminating'));
        VoxEngine.addEventListener(AppEvents.Terminated, () => {
          events.push('terminated');
          Logger.write('only Logger works now');
        });
      });
    });
    const session = startSession(scenario, {
      transport,
      callerid: '+15550100',
      headers: { 'X-Tenant': 'acme', Authorization: 'secret' },
    });
    await until(() => theCall !== undefined);
    transport.injectControl({ type: 'say', content: 'hi' });
    transport.injectAudio(new Uint8Array(160));
    transport.injectControl({ type: 'control', control: 'answer' });
    transport.injectAudio(new Uint8Array(160));
    assert.equal(sink.frames.length, 0, 'audio before Connected is dropped');
    await until(() => theCall?.state() === 'CONNECTED');
    transport.injectAudio(new Uint8Array(160));
    assert.equal(sink.frames.length, 1);
    const terminated = once(session, 'terminated');
    theCall!.hangup();
    await terminated;
    assert.deepEqual(events, [
      'started:36',
      'alerting:+15550100:{"X-Tenant":"acme"}:ALERTING',
      'message:{"type":"say","content":"hi"}',
      'message:{"type":"control","control":"answer"}',
      'connected:CONNECTED',
      'disconnected:assistant-ended-call',
      'terminating',
      'terminated',
    ]);
    assert.equal(transport.closedWith, 'assistant-ended-call');
    assert.equal(theCall!.state(), 'TERMINATED');
  });

  it('terminate() closes every socket, stream and timer it opened; only Terminating/Terminated fire after', async () => {
    const events: string[] = [];
    const transport = new MemoryTransport(ULAW_8K);
    const scenario = defineScenario('terminate', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(server.url);
        ws.addEventListener(WebSocketEvents.CLOSE, () => events.push('ws closed'));
        ws.addEventListener(WebSocketEvents.MEDIA_STARTED, () => {
          events.push('media started');
          VoxEngine.terminate();
          events.push('terminate returned');
        });
        call.addEventListener(CallEvents.Disconnected, () => events.push('disconnected'));
        VoxEngine.addEventListener(AppEvents.Terminating, () => events.push('terminating'));
        VoxEngine.addEventListener(AppEvents.Terminated, () => events.push('terminated'));
        call.addEventListener(CallEvents.Connected, () => ws.sendMediaTo(call));
        call.answer();
      });
    });
    const session = startSession(scenario, { transport });
    const peer = await server.nextConnection();
    peer.sendStart(undefined, 'PCM8', 8000);
    const terminated = once(session, 'terminated');
    await peer.sendAudio(undefined, pcm16Bytes(sine(400, 8000, 5000)), 3200);
    const [info] = await terminated;
    assert.deepEqual(info, { reason: 'scenario-terminated' });
    assert.equal((await peer.closed).code, 1000, 'the peer sees a normal close');
    assert.equal(transport.closedWith, 'scenario-terminated');
    assert.equal(frameClock.running, false, 'the 5 s of buffered audio left the clock');
    assert.equal(frameClock.size, 0);
    const played = transport.sent.length;
    await sleep(100);
    assert.equal(transport.sent.length, played, 'nothing plays after the end');
    assert.deepEqual(events, ['media started', 'terminating', 'terminated', 'terminate returned']);
    assert.equal(session.state, 'terminated');
  });
});
