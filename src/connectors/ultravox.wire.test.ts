/**
 * `Ultravox.WebSocketAPIClient` against a bare join socket (JOIN_CALL): every method's exact data message on the
 * wire, every event firing under its exact VoxEngine string, and the caller audio leaving at one second per
 * second in 20 ms frames, silence included.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawJoinServer } from '../emulators/ultravox/testing.js';
import { type Link, MediaUnit, type SendMediaOptions } from '../graph/unit.js';
import { type AudioFormat, PCM16_8K, PCM16_16K } from '../media/format.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from '../media/pcm.js';
import { waitFor } from './testHelpers.js';
import type { ConnectorEvent, ConnectorMediaEvent } from './types.js';
import {
  createWebSocketAPIClient,
  HTTPEndpoint,
  type WebSocketAPIClient,
  type WebSocketAPIClientParameters,
  WebSocketAPIEvents,
} from './ultravox.js';

/** A caller leg: speaks in its format, records what it is sent. */
class FakeCaller extends MediaUnit {
  readonly frames: Uint8Array[] = [];
  constructor(readonly format: AudioFormat) {
    super('fake-caller');
  }
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return this.format;
  }
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.frames.push(Uint8Array.from(frame));
  }
  speak(pcm: Int16Array): void {
    this.emitMedia(pcm16Bytes(pcm), this.format);
  }
}

let server: RawJoinServer;
before(async () => {
  await initMedia();
  server = await RawJoinServer.start();
});
after(() => server.close());

async function join(extra: Partial<WebSocketAPIClientParameters> = {}) {
  const pending = createWebSocketAPIClient({
    endpoint: HTTPEndpoint.JOIN_CALL,
    joinUrl: server.url,
    keepaliveIntervalMs: 0,
    ...extra,
  });
  const peer = await server.next();
  return { client: await pending, peer };
}

describe('Ultravox.WebSocketAPIClient methods', () => {
  test('every method sends exactly its data message', async () => {
    const { client, peer } = await join();
    const cases: [() => void, string][] = [
      [
        () => client.clientToolResult({ invocationId: 'inv-1', result: '{"free":true}' }),
        '{"type":"client_tool_result","invocationId":"inv-1","result":"{\\"free\\":true}"}',
      ],
      [
        () =>
          client.clientToolResult({
            type: 'client_tool_result',
            invocationId: 'inv-2',
            errorType: 'undefined',
            errorMessage: 'no such tool',
          }),
        '{"type":"client_tool_result","invocationId":"inv-2","errorType":"undefined","errorMessage":"no such tool"}',
      ],
      [
        () =>
          client.dataConnectionToolResult({ invocationId: 'inv-3', result: 'ok', agentReaction: 'listens' }),
        '{"type":"data_connection_tool_result","invocationId":"inv-3","result":"ok","agentReaction":"listens"}',
      ],
      [
        () => client.forcedAgentMessage({ content: 'Hold on.', uninterruptible: true, urgency: 'immediate' }),
        '{"type":"forced_agent_message","content":"Hold on.","uninterruptible":true,"urgency":"immediate"}',
      ],
      [() => client.hangUp({ message: 'Goodbye!' }), '{"type":"hang_up","message":"Goodbye!"}'],
      [() => client.hangUp(), '{"type":"hang_up"}'],
      [
        () => client.inputTextMessage({ text: 'hi', deferResponse: true }),
        '{"type":"input_text_message","text":"hi","deferResponse":true}',
      ],
      [
        () => client.userTextMessage({ text: 'hello', urgency: 'soon' }),
        '{"type":"user_text_message","text":"hello","urgency":"soon"}',
      ],
      [() => client.setOutputMedium({ medium: 'text' }), '{"type":"set_output_medium","medium":"text"}'],
    ];
    for (const [send] of cases) send();
    await peer.until(() => peer.texts.length >= cases.length, 'every message');
    assert.deepEqual(
      peer.texts,
      cases.map(([, wire]) => wire),
    );
    client.close();
  });

  test('bad parameters throw VG_ERR_BAD_ARGUMENT; a closed client VG_ERR_INVALID_STATE; ids are stable', async () => {
    const { client, peer } = await join();
    assert.throws(() => client.clientToolResult({ result: 'x' }), { code: 'VG_ERR_BAD_ARGUMENT' });
    assert.throws(() => client.userTextMessage({ type: 'hang_up', text: 'x' }), {
      code: 'VG_ERR_BAD_ARGUMENT',
    });
    assert.throws(() => client.setOutputMedium({ medium: 'video' }), { code: 'VG_ERR_BAD_ARGUMENT' });
    assert.throws(() => client.forcedAgentMessage('say this' as unknown as object), {
      code: 'VG_ERR_BAD_ARGUMENT',
    });
    assert.match(client.id(), /^ultravox-\d+$/);
    assert.equal(client.webSocketId(), `${client.id()}-ws`);
    assert.equal(client.id(), client.id());
    client.close();
    client.close();
    assert.deepEqual(await peer.closed, { code: 1000, reason: '' });
    assert.throws(() => client.hangUp({}), { code: 'VG_ERR_INVALID_STATE' });
    assert.equal(peer.texts.length, 0, 'nothing invalid reached the wire');
  });
});

describe('Ultravox.WebSocketAPIClient events', () => {
  test('each server message fires its event under the exact VoxEngine string, as {client, data}', async () => {
    const { client, peer } = await join();
    const seen: [string, ConnectorEvent<WebSocketAPIClient>][] = [];
    for (const name of Object.values(WebSocketAPIEvents)) {
      client.addEventListener(name, (e) => seen.push([name, e]));
    }
    const info = await waitFor<ConnectorEvent<WebSocketAPIClient>>(
      (resolve) => client.addEventListener(WebSocketAPIEvents.ConnectorInformation, resolve),
      'ConnectorInformation',
    );
    assert.equal(info.data.customEvent, 'connector_information');
    assert.deepEqual(info.data.payload, {
      connector: 'voxgate',
      endpoint: 'JoinCall',
      callId: null,
      inputSampleRate: 16000,
      outputSampleRate: 16000,
      clientBufferSizeMs: null,
    });
    const sent: [Record<string, unknown> | string, string][] = [
      [{ type: 'state', state: 'listening' }, 'Ultravox.WebSocketAPI.State'],
      [
        { type: 'transcript', role: 'agent', medium: 'voice', delta: 'Hi', final: false, ordinal: 1 },
        'Ultravox.WebSocketAPI.Transcript',
      ],
      [
        {
          type: 'client_tool_invocation',
          toolName: 'checkTable',
          invocationId: 'i1',
          parameters: { time: '7' },
        },
        'Ultravox.WebSocketAPI.ClientToolInvocation',
      ],
      [
        { type: 'data_connection_tool_invocation', toolName: 'crm', invocationId: 'i2', parameters: {} },
        'Ultravox.WebSocketAPI.DataConnectionToolInvocation',
      ],
      [{ type: 'debug', message: 'hello' }, 'Ultravox.WebSocketAPI.Debug'],
      [{ type: 'playback_clear_buffer' }, 'Ultravox.WebSocketAPI.PlaybackClearBuffer'],
      [{ type: 'pong', timestamp: 1.5 }, 'Ultravox.WebSocketAPI.Unknown'],
      [{ type: 'call_started', callId: 'c1' }, 'Ultravox.WebSocketAPI.Unknown'],
    ];
    seen.length = 0;
    for (const [message] of sent) peer.send(message);
    peer.send('{"type": broken');
    while (seen.length < sent.length + 1) await sleep(10);
    sent.forEach(([message, name], i) => {
      const [event, payload] = seen[i]!;
      assert.equal(event, name);
      assert.equal(payload.client, client);
      assert.deepEqual(payload.data, { customEvent: (message as { type: string }).type, payload: message });
    });
    const [errorName, error] = seen[sent.length]!;
    assert.equal(errorName, 'Ultravox.WebSocketAPI.WebSocketError');
    assert.equal(error.data.customEvent, 'protocol_error');
    assert.equal(error.data.error?.code, 'VG_ERR_UPSTREAM_PROTOCOL');
    assert.equal(client.stats.protocolErrors, 1);
    assert.equal(client.closed, false, 'a bad message does not end the call');
    client.close();
  });

  test('agent audio plays to the units in real time; WebSocketMediaStarted, then Ended after 1 s of silence', async () => {
    const { client, peer } = await join();
    const caller = new FakeCaller(PCM16_16K);
    client.sendMediaTo(caller);
    const marks: [string, ConnectorMediaEvent<WebSocketAPIClient>, number][] = [];
    client.addEventListener('Ultravox.Events.WebSocketMediaStarted', (e) =>
      marks.push(['started', e, performance.now()]),
    );
    client.addEventListener('Ultravox.Events.WebSocketMediaEnded', (e) =>
      marks.push(['ended', e, performance.now()]),
    );
    peer.sendAudio(sine(440, 16000, 400, 0.4));
    while (marks.length < 2) await sleep(20);
    assert.deepEqual(
      marks.map(([name]) => name),
      ['started', 'ended'],
    );
    assert.equal(marks[0]![1].client, client);
    assert.equal(marks[1]![1].mediaInfo?.duration, 400);
    const gap = marks[1]![2] - marks[0]![2];
    assert.ok(
      gap >= 1000 && gap < 3000,
      `ended ${gap.toFixed(0)} ms after started (400 ms + 1 s of silence)`,
    );
    const heard = pcm16View(Buffer.concat(caller.frames));
    assert.equal(heard.length, 6400);
    assert.ok(Math.abs(dominantFrequency(heard, 16000) - 440) < 5);
    client.close();
  });

  test('removeEventListener removes one handler, or all of an event', async () => {
    const { client, peer } = await join();
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    client.addEventListener(WebSocketAPIEvents.Debug, a);
    client.addEventListener(WebSocketAPIEvents.Debug, b);
    client.removeEventListener(WebSocketAPIEvents.Debug, a);
    peer.send({ type: 'debug', message: 'one' });
    await waitFor<void>(
      (resolve) => client.addEventListener(WebSocketAPIEvents.Debug, () => resolve()),
      'debug',
    );
    client.removeEventListener(WebSocketAPIEvents.Debug);
    peer.send({ type: 'debug', message: 'two' });
    peer.send({ type: 'state', state: 'idle' });
    await waitFor<void>(
      (resolve) => client.addEventListener(WebSocketAPIEvents.State, () => resolve()),
      'state',
    );
    assert.deepEqual(calls, ['b']);
    client.close();
  });
});

describe('Ultravox.WebSocketAPIClient caller audio', () => {
  test('one second of audio per second in 20 ms frames: silence while the caller is absent, a burst smoothed out', async () => {
    const { client, peer } = await join();
    const start = performance.now();
    await sleep(1000);
    const silent = peer.binary.filter((f) => f.at - start <= 1000).length;
    assert.ok(silent >= 40 && silent <= 56, `${silent} frames in the first second`);
    assert.ok(
      peer.binary.every((f) => f.data.length === 640 && f.data.every((b) => b === 0)),
      '20 ms of silence',
    );

    const caller = new FakeCaller(PCM16_8K);
    caller.sendMediaTo(client);
    const first = peer.binary.length;
    caller.speak(sine(300, 8000, 400, 0.5)); // 400 ms of caller audio at once
    await sleep(700);
    const after = peer.binary.slice(first);
    const voiced = after.filter((f) => !f.data.every((b) => b === 0));
    assert.ok(voiced.length >= 19 && voiced.length <= 21, `${voiced.length} voiced frames`);
    const spread = voiced.at(-1)!.at - voiced[0]!.at;
    assert.ok(spread >= 250, `the burst left over ${spread.toFixed(0)} ms, one frame per tick`);
    const pcm = pcm16View(Buffer.concat(voiced.map((f) => f.data)));
    assert.ok(Math.abs(dominantFrequency(pcm, 16000) - 300) < 5, 'resampled to 16 kHz on the way');
    client.close();
    await peer.closed;
    // Compared once the socket has closed: before that a sent frame may still be on its way to the peer.
    assert.equal(client.stats.framesSent, peer.binary.length);
    const total = peer.binary.length;
    await sleep(100);
    assert.equal(peer.binary.length, total, 'nothing is sent after close');
  });
});
