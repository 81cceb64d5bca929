/**
 * Incoming WebSockets (allowWebSocketConnections, the calls + 3 cap) and every WebSocket limit with its code.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, WebSocket as WsClient } from 'ws';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { ULAW_8K } from '../media/format.js';
import { initMedia } from '../media/index.js';
import { pcm16Bytes, sine } from '../media/pcm.js';
import type { LoadedScenario } from './runtime.js';
import { defineScenario, startSession } from './runtime.js';
import type { Session, SessionOptions } from './session.js';
import { MemoryTransport } from './testing.js';
import { PeerServer } from './testPeer.js';
import { AppEvents, CallEvents, VoxEngine, WebSocketEvents } from './voxengine.js';

let peers: PeerServer;
/** A TCP server that accepts connections and never answers the WebSocket handshake. */
let silent: TcpServer;
const held: Socket[] = [];
/** The gateway side: routes upgrades on /ws/<sessionId> to that session. */
let gateway: Server;
const sessions = new Map<string, Session>();

before(async () => {
  await initMedia();
  peers = await PeerServer.start();
  silent = createTcpServer((socket) => held.push(socket)).listen(0, '127.0.0.1');
  const wss = new WebSocketServer({ noServer: true });
  gateway = createServer().listen(0, '127.0.0.1');
  gateway.on('upgrade', (request, socket, head) => {
    const session = sessions.get(request.url?.split('/')[2] ?? '');
    if (session === undefined) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => session.acceptWebSocket(ws, request));
  });
  await Promise.all([once(silent, 'listening'), once(gateway, 'listening')]);
});
after(async () => {
  for (const s of held) s.destroy();
  await Promise.all([
    peers.close(),
    new Promise((r) => silent.close(r)),
    new Promise((r) => gateway.close(r)),
  ]);
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

function start(scenario: LoadedScenario, options: Partial<SessionOptions> = {}) {
  const transport = new MemoryTransport(ULAW_8K);
  const session = startSession(scenario, { transport, ...options });
  const errors: VoxgateError[] = [];
  session.on('error', (e) => errors.push(e));
  return { session, transport, errors };
}

/** Connects to the gateway as a third party; resolves with the socket once it opened or closed. */
async function dial(session: Session, path = 'media', headers: Record<string, string> = {}) {
  const ws = new WsClient(
    `ws://127.0.0.1:${(gateway.address() as AddressInfo).port}/ws/${session.id}/${path}`,
    { headers },
  );
  const texts: string[] = [];
  ws.on('message', (data) => texts.push(data.toString()));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await Promise.race([once(ws, 'open'), closed]);
  return { ws, texts, closed };
}

describe('incoming WebSockets', () => {
  it('are refused (1008) unless the scenario allows them', async () => {
    const scenario = defineScenario('no-incoming', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, () => {});
    });
    const { session } = start(scenario);
    sessions.set(session.id, session);
    await sleep(20);
    const { closed } = await dial(session);
    assert.equal(await closed, 1008);
    session.terminate();
  });

  it('arrive as AppEvents.WebSocket, carry media and text; past calls + 3 they fail with NewWebSocketFailed', async () => {
    const accepted: { url: string; path: string; headers: unknown }[] = [];
    const failed: string[] = [];
    const scenario = defineScenario('incoming', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        VoxEngine.allowWebSocketConnections();
        call.answer();
        VoxEngine.addEventListener(AppEvents.WebSocket, (e) => {
          accepted.push({ url: e.websocket.url, path: e.path, headers: e.headers });
          e.websocket.onmessage = (m) => e.websocket.send(`echo:${m.text}`);
          if (accepted.length === 1) call.sendMediaTo(e.websocket, { tag: 'caller' });
        });
        VoxEngine.addEventListener(AppEvents.NewWebSocketFailed, (e) => failed.push(e.reason));
      });
    });
    const { session } = start(scenario, { accessUrl: 'https://gw.example/ws/s1' });
    sessions.set(session.id, session);
    await until(() => session.call.state() === 'CONNECTED');
    const first = await dial(session, 'media?x=1', { 'X-Tenant': 'acme', Cookie: 'no' });
    await until(() => first.texts.length > 0);
    assert.deepEqual(JSON.parse(first.texts[0]!).start, {
      mediaFormat: { encoding: 'PCM8', sampleRate: 8000, channels: 1 },
      tag: 'caller',
    });
    first.ws.send('hi');
    await until(() => first.texts.includes('echo:hi'));
    assert.deepEqual(accepted[0], {
      url: `wss://gw.example/ws/${session.id}/media?x=1`,
      path: `/ws/${session.id}/media`,
      headers: [{ key: 'x-tenant', value: 'acme' }],
    });

    const more = [await dial(session), await dial(session), await dial(session)];
    const refused = await dial(session);
    assert.equal(await refused.closed, 1013, 'the fifth socket (1 call + 3) is refused');
    await until(() => failed.length === 1);
    assert.equal(accepted.length, 4);
    assert.deepEqual(failed, ['too many websockets']);
    session.terminate();
    for (const c of [first, ...more])
      assert.equal(await c.closed, 1000, 'the session closes incoming sockets');
  });
});

describe('WebSocket limits', () => {
  it('maxQueuedMessages: sends past the queue while connecting are dropped (VG_ERR_QUEUE_FULL)', async () => {
    const scenario = defineScenario('queue', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, () => {
        const ws = VoxEngine.createWebSocket(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
        for (let i = 0; i < 5; i++) ws.send(`message ${i}`);
      });
    });
    const { session, errors } = start(scenario, { limits: { maxQueuedMessages: 3 } });
    await until(() => errors.length > 0);
    assert.equal(errors[0]!.code, ErrorCodes.QUEUE_FULL);
    assert.deepEqual(errors[0]!.details, { maxQueuedMessages: 3 });
    session.terminate();
  });

  it('connectTimeoutMs: a handshake that never completes gives ERROR (VG_ERR_CONNECT_TIMEOUT), then CLOSE', async () => {
    const events: unknown[] = [];
    const scenario = defineScenario('connect-timeout', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, () => {
        const ws = VoxEngine.createWebSocket(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
        ws.onerror = (e) => events.push(e.error?.code);
        ws.addEventListener(WebSocketEvents.CLOSE, (e) => events.push(e.code, e.wasClean, ws.readyState));
      });
    });
    const { session } = start(scenario, { limits: { connectTimeoutMs: 200 } });
    await until(() => events.length === 4);
    assert.deepEqual(events, [ErrorCodes.CONNECT_TIMEOUT, 1006, false, 'closed']);
    session.terminate();
  });

  it('maxMessageBytes: a bigger text frame closes the socket with 1009 (VG_ERR_FRAME_TOO_LARGE)', async () => {
    const closes: number[] = [];
    const scenario = defineScenario('too-large', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, () => {
        const ws = VoxEngine.createWebSocket(peers.url);
        ws.onclose = (e) => closes.push(e.code);
      });
    });
    const { session, errors } = start(scenario, { limits: { maxMessageBytes: 1000 } });
    const peer = await peers.nextConnection();
    peer.sendText('x'.repeat(999));
    peer.sendText('y'.repeat(2000));
    await until(() => closes.length === 1);
    assert.equal(errors[0]!.code, ErrorCodes.FRAME_TOO_LARGE);
    assert.equal(errors[0]!.closeCode, 1009);
    assert.equal(closes[0], 1009);
    assert.equal((await peer.closed).code, 1009);
    session.terminate();
  });

  it('maxBufferedMs: audio past the playout buffer is dropped and counted (VG_ERR_AUDIO_BUFFER_FULL)', async () => {
    const scenario = defineScenario('buffer', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(peers.url);
        call.addEventListener(CallEvents.Connected, () => ws.sendMediaTo(call));
        call.answer();
      });
    });
    const { session, transport, errors } = start(scenario, { limits: { maxBufferedMs: 200 } });
    const peer = await peers.nextConnection();
    await until(() => session.call.state() === 'CONNECTED');
    peer.sendStart(undefined, 'PCM8', 8000);
    await peer.sendAudio(undefined, pcm16Bytes(sine(440, 8000, 1000)), 8000);
    await until(() => errors.length > 0);
    assert.equal(errors[0]!.code, ErrorCodes.AUDIO_BUFFER_FULL);
    assert.deepEqual(errors[0]!.details, { tag: null, maxBufferedMs: 200 });
    await sleep(500);
    assert.ok(
      transport.sent.length >= 8 && transport.sent.length <= 14,
      `${transport.sent.length} frames played of 50 sent`,
    );
    session.terminate();
  });
});
