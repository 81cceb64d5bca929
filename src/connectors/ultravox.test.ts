/**
 * `Ultravox.WebSocketAPIClient` against the local Ultravox server: CREATE_CALL (the REST call, the forced
 * `serverWebSocket` medium, `HTTPResponse`, then the join), CREATE_AGENT_CALL with `pathParameters`, JOIN_CALL with
 * a joinUrl created out of band, audio both ways through a G.711 caller, the ping/pong keepalive, and the
 * `Ultravox` module's surface.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { postJson, socketCall } from '../emulators/ultravox/testing.js';
import { startUltravoxEmulator, type UltravoxEmulator } from '../emulators/ultravox.js';
import { type Link, MediaUnit, type SendMediaOptions, sendMediaBetween } from '../graph/unit.js';
import { type AudioFormat, ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, sine } from '../media/pcm.js';
import { Modules, requireModule } from '../scenario/modules/index.js';
import { Ultravox } from '../scenario/modules/ultravox.js';
import { waitFor } from './testHelpers.js';
import type { ConnectorEvent } from './types.js';
import {
  createWebSocketAPIClient,
  Events,
  HTTPEndpoint,
  type WebSocketAPIClient,
  WebSocketAPIEvents,
} from './ultravox.js';

class MuLawCaller extends MediaUnit {
  readonly frames: Uint8Array[] = [];
  constructor() {
    super('fake-caller');
  }
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return ULAW_8K;
  }
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.frames.push(Uint8Array.from(frame));
  }
  /** Speaks `pcm` (8 kHz) in real time, 20 ms a frame on an absolute schedule, two frames ahead (as RTP would). */
  async speak(pcm: Int16Array): Promise<void> {
    const bytes = ulawEncode(pcm);
    const start = performance.now();
    for (let i = 0; i * 160 < bytes.length; i++) {
      const wait = start + (i - 2) * 20 - performance.now();
      if (wait > 0) await sleep(wait);
      this.emitMedia(bytes.subarray(i * 160, (i + 1) * 160), ULAW_8K);
    }
  }
}

const nextEvent = (client: WebSocketAPIClient, name: string) =>
  waitFor<ConnectorEvent<WebSocketAPIClient>>(
    (resolve) => client.addEventListener(name as typeof WebSocketAPIEvents.State, resolve),
    name,
  );

before(() => initMedia());

describe('Ultravox.WebSocketAPIClient with the local Ultravox server', () => {
  const received: { callId: string; message: Record<string, unknown> }[] = [];
  const brain = scriptedBrain([
    [
      { type: 'text', text: 'Hello!' },
      { type: 'audio', pcm: sine(440, 16000, 400, 0.4), sampleRate: 16000 },
    ],
    [
      { type: 'user_transcript', text: 'hi' },
      { type: 'text', text: 'You spoke.' },
    ],
  ]);
  let emu: UltravoxEmulator;
  before(async () => {
    emu = await startUltravoxEmulator({
      brain,
      apiKey: 'uv-key',
      agents: { 'agent-7': { systemPrompt: 'Agent seven.' } },
      onClientMessage: (callId, message) => received.push({ callId, message }),
    });
  });
  after(() => emu.close());

  test('CREATE_CALL: the REST call with serverWebSocket forced, HTTPResponse, the join, audio both ways', async () => {
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.CREATE_CALL,
      authorizations: { 'X-API-Key': 'uv-key' },
      queryParameters: { enableGreetingPrompt: true },
      body: { systemPrompt: 'Be brief.', voice: 'Mark', medium: { twilio: {} } },
      baseUrl: emu.baseUrl,
      keepaliveIntervalMs: 0,
    });
    const http = await nextEvent(client, 'Ultravox.WebSocketAPI.HTTPResponse');
    assert.equal(http.data.customEvent, 'http_response');
    const call = http.data.payload as { callId: string; systemPrompt: string; medium: unknown };
    assert.equal(call.callId, client.callId);
    assert.equal(call.systemPrompt, 'Be brief.');
    assert.deepEqual(call.medium, {
      serverWebSocket: { inputSampleRate: 16000, outputSampleRate: 16000, clientBufferSizeMs: 60 },
    });
    const caller = new MuLawCaller();
    sendMediaBetween(caller, client);
    await waitFor(
      (resolve) => client.addEventListener(Events.WebSocketMediaEnded, resolve),
      'greeting played',
    );
    const heard = ulawDecode(Buffer.concat(caller.frames));
    assert.ok(Math.abs(heard.length - 3200) <= 160, `400 ms at 8 kHz, got ${heard.length} samples`);
    const greeting = dominantFrequency(heard, 8000);
    assert.ok(Math.abs(greeting - 440) < 10, `the greeting is heard at ${greeting} Hz`);

    const transcripts: Record<string, unknown>[] = [];
    client.addEventListener(WebSocketAPIEvents.Transcript, (e) =>
      transcripts.push(e.data.payload as Record<string, unknown>),
    );
    const turn = new Int16Array(8000);
    turn.set(sine(300, 8000, 500, 0.5), 800);
    await caller.speak(turn);
    while (!transcripts.some((t) => t.role === 'agent' && t.final)) await sleep(20);
    assert.deepEqual(transcripts[0], {
      type: 'transcript',
      role: 'user',
      medium: 'voice',
      text: 'hi',
      final: true,
      ordinal: 1,
    });
    const audio = brain.turns[1]!.user!.audio!;
    assert.equal(audio.sampleRate, 16000, 'the caller reached Ultravox at 16 kHz');
    const spoken = dominantFrequency(audio.pcm, 16000);
    assert.ok(Math.abs(spoken - 300) < 5, `the caller reached the brain at ${spoken} Hz`);
    client.close();
    assert.equal(client.closed, true);
    await sleep(50);
    assert.equal(emu.call(client.callId!)!.endReason, 'hangup');
  });

  test('CREATE_AGENT_CALL with pathParameters', async () => {
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.CREATE_AGENT_CALL,
      authorizations: { 'X-API-Key': 'uv-key' },
      pathParameters: { agent_id: 'agent-7' },
      body: { templateContext: { name: 'Ann' } },
      baseUrl: emu.baseUrl,
      keepaliveIntervalMs: 0,
    });
    const call = emu.call(client.callId!)!;
    assert.equal(call.agentId, 'agent-7');
    assert.equal(call.systemPrompt, 'Agent seven.');
    assert.notEqual(call.joined, null);
    client.close();
  });

  test('JOIN_CALL with a joinUrl created out of band', async () => {
    const created = await postJson(
      emu.baseUrl,
      '/api/calls',
      socketCall(16000, { firstSpeakerSettings: { user: {} } }),
      'uv-key',
    );
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.JOIN_CALL,
      joinUrl: created.body.joinUrl,
      keepaliveIntervalMs: 0,
    });
    assert.equal(client.callId, null);
    assert.notEqual(emu.call(created.body.callId)!.joined, null);
    client.userTextMessage({ text: 'typed' });
    const final = await nextEvent(client, WebSocketAPIEvents.Transcript);
    assert.deepEqual(final.data.payload, {
      type: 'transcript',
      role: 'user',
      medium: 'text',
      text: 'typed',
      final: true,
      ordinal: 0,
    });
    const last = received.at(-1)!;
    assert.equal(last.callId, created.body.callId);
    assert.deepEqual(last.message, { type: 'user_text_message', text: 'typed' });
    client.close();
  });

  test('keepalive: a ping data message on the interval, the pong arrives as Unknown, the call stays up', async () => {
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.CREATE_CALL,
      authorizations: { 'X-API-Key': 'uv-key' },
      body: { firstSpeakerSettings: { user: {} } },
      baseUrl: emu.baseUrl,
      keepaliveIntervalMs: 100,
      keepaliveTimeoutMs: 1000,
    });
    const pong = await waitFor<ConnectorEvent<WebSocketAPIClient>>(
      (resolve) =>
        client.addEventListener(WebSocketAPIEvents.Unknown, (e) => {
          if (e.data.customEvent === 'pong') resolve(e);
        }),
      'pong',
    );
    const ping = received.find((r) => r.callId === client.callId && r.message.type === 'ping')!.message;
    assert.equal(typeof ping.timestamp, 'number');
    assert.deepEqual(pong.data.payload, { type: 'pong', timestamp: ping.timestamp });
    await sleep(350);
    assert.ok(received.filter((r) => r.callId === client.callId && r.message.type === 'ping').length >= 3);
    assert.equal(client.closed, false);
    client.close();
  });

  test('bargeIn: true clears the media buffer on playback_clear_buffer before the handlers run', async () => {
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.CREATE_CALL,
      authorizations: { 'X-API-Key': 'uv-key' },
      body: {
        firstSpeakerSettings: { user: {} },
        medium: { serverWebSocket: { inputSampleRate: 16000, clientBufferSizeMs: 5000 } },
      },
      baseUrl: emu.baseUrl,
      keepaliveIntervalMs: 0,
      bargeIn: true,
    });
    client.sendMediaTo(new MuLawCaller());
    // About 3.5 s of placeholder speech, all sent at once into the 5 s client buffer.
    client.forcedAgentMessage({ content: 'A long, long message that keeps the agent busy for a while.' });
    await waitFor((resolve) => client.addEventListener(Events.WebSocketMediaStarted, resolve), 'agent audio');
    await sleep(200);
    const seenInHandler = waitFor<number>(
      (resolve) =>
        client.addEventListener(WebSocketAPIEvents.PlaybackClearBuffer, () =>
          resolve(client.stats.framesCleared),
        ),
      'PlaybackClearBuffer',
    );
    client.userTextMessage({ text: 'stop', urgency: 'immediate' });
    const cleared = await seenInHandler;
    assert.ok(cleared > 50, `${cleared} frames were dropped before the handler ran`);
    client.close();
  });

  test('audio that comes before the client is linked waits for the link: the whole greeting is heard', async () => {
    const client = await createWebSocketAPIClient({
      endpoint: HTTPEndpoint.CREATE_CALL,
      authorizations: { 'X-API-Key': 'uv-key' },
      queryParameters: { enableGreetingPrompt: true },
      body: { systemPrompt: 'Be brief.', medium: { twilio: {} } },
      baseUrl: emu.baseUrl,
      keepaliveIntervalMs: 0,
    });
    const started = waitFor(
      (resolve) => client.addEventListener(Events.WebSocketMediaStarted, resolve),
      'media started',
    );
    // The whole 400 ms greeting reaches the client's socket before anything is linked to it.
    for (let i = 0; i < 200 && client.stats.bytesIn < 12800; i++) await sleep(10);
    assert.ok(client.stats.bytesIn >= 12800, `greeting received: ${client.stats.bytesIn} bytes`);
    const caller = new MuLawCaller();
    client.sendMediaTo(caller);
    await started;
    await waitFor(
      (resolve) => client.addEventListener(Events.WebSocketMediaEnded, resolve),
      'greeting played',
    );
    assert.equal(caller.frames.length, 20, 'every 20 ms frame of the greeting, none played to nobody');
    client.close();
  });
});

describe('the Ultravox module', () => {
  test('WebSocketAPIEvents, Events and HTTPEndpoint, spelled as VoxEngine spells them', () => {
    const names = [
      'Unknown',
      'HTTPResponse',
      'State',
      'Transcript',
      'ClientToolInvocation',
      'DataConnectionToolInvocation',
      'Debug',
      'PlaybackClearBuffer',
      'WebSocketError',
      'ConnectorInformation',
    ];
    assert.deepEqual(
      Ultravox.WebSocketAPIEvents,
      Object.fromEntries(names.map((n) => [n, `Ultravox.WebSocketAPI.${n}`])),
    );
    assert.deepEqual(Ultravox.Events, {
      WebSocketMediaStarted: 'Ultravox.Events.WebSocketMediaStarted',
      WebSocketMediaEnded: 'Ultravox.Events.WebSocketMediaEnded',
    });
    assert.deepEqual(Ultravox.HTTPEndpoint, {
      CREATE_CALL: 'CreateCall',
      CREATE_AGENT_CALL: 'CreateAgentCall',
      JOIN_CALL: 'JoinCall',
    });
    assert.equal(typeof Ultravox.createWebSocketAPIClient, 'function');
  });

  test('require(Modules.Ultravox) returns the module', () => {
    assert.equal(Modules.Ultravox, 'Ultravox');
    assert.equal(requireModule(Modules.Ultravox), Ultravox);
  });
});
