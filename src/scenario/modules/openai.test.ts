/**
 * The `OpenAI` module's surface: the 43 `RealtimeAPIEvents` strings exactly as VoxEngine spells them, the media
 * events, the client types, and `require(Modules.OpenAI)`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toneBrain } from '../../agent/toneBrain.js';
import { until } from '../../connectors/testHelpers.js';
import { startOpenAIRealtimeEmulator } from '../../emulators/openaiRealtime.js';
import { voiced } from '../../emulators/testing.js';
import { mediaStats } from '../../graph/stats.js';
import { ULAW_8K } from '../../media/format.js';
import { ulawDecode, ulawEncode } from '../../media/g711.js';
import { initMedia } from '../../media/index.js';
import { dominantFrequency } from '../../media/pcm.js';
import { defineScenario, startSession } from '../runtime.js';
import { MemoryTransport } from '../testing.js';
import { AppEvents, CallEvents, VoxEngine } from '../voxengine.js';
import { Modules, requireModule } from './index.js';
import { OpenAI } from './openai.js';

/** spec/voxengine.md §10, in its order. */
const NAMES = [
  'Unknown',
  'HTTPResponse',
  'Error',
  'SessionCreated',
  'SessionUpdated',
  'ConversationItemAdded',
  'ConversationItemDone',
  'ConversationItemRetrieved',
  'ConversationItemInputAudioTranscriptionCompleted',
  'ConversationItemInputAudioTranscriptionDelta',
  'ConversationItemInputAudioTranscriptionSegment',
  'ConversationItemInputAudioTranscriptionFailed',
  'ConversationItemTruncated',
  'ConversationItemDeleted',
  'InputAudioBufferCommitted',
  'InputAudioBufferCleared',
  'InputAudioBufferSpeechStarted',
  'InputAudioBufferSpeechStopped',
  'InputAudioBufferTimeoutTriggered',
  'ResponseCreated',
  'ResponseDone',
  'ResponseOutputItemAdded',
  'ResponseOutputItemDone',
  'ResponseContentPartAdded',
  'ResponseContentPartDone',
  'ResponseOutputTextDelta',
  'ResponseOutputTextDone',
  'ResponseOutputAudioTranscriptDelta',
  'ResponseOutputAudioTranscriptDone',
  'ResponseOutputAudioDone',
  'ResponseFunctionCallArgumentsDelta',
  'ResponseFunctionCallArgumentsDone',
  'ResponseMCPCallArgumentsDelta',
  'ResponseMCPCallArgumentsDone',
  'ResponseMCPCallInProgress',
  'ResponseMCPCallCompleted',
  'ResponseMCPCallFailed',
  'MCPListToolsInProgress',
  'MCPListToolsCompleted',
  'MCPListToolsFailed',
  'RateLimitsUpdated',
  'WebSocketError',
  'ConnectorInformation',
];

test('OpenAI.RealtimeAPIEvents: the 43 names, each "OpenAI.RealtimeAPI.<Name>"', () => {
  assert.equal(NAMES.length, 43);
  assert.deepEqual(
    OpenAI.RealtimeAPIEvents,
    Object.fromEntries(NAMES.map((name) => [name, `OpenAI.RealtimeAPI.${name}`])),
  );
});

test('OpenAI.Events, OpenAI.RealtimeAPIClientType and the factory', () => {
  assert.deepEqual(OpenAI.Events, {
    WebSocketMediaStarted: 'OpenAI.Events.WebSocketMediaStarted',
    WebSocketMediaEnded: 'OpenAI.Events.WebSocketMediaEnded',
  });
  assert.deepEqual(OpenAI.RealtimeAPIClientType, { REALTIME: 'realtime', TRANSCRIPTION: 'transcription' });
  assert.equal(typeof OpenAI.createRealtimeAPIClient, 'function');
});

test('require(Modules.OpenAI) returns the module', () => {
  assert.equal(Modules.OpenAI, 'OpenAI');
  assert.equal(requireModule(Modules.OpenAI), OpenAI);
});

test('createRealtimeAPIClient rejects with a coded error on bad parameters', async () => {
  await assert.rejects(OpenAI.createRealtimeAPIClient({ apiKey: '' }), { code: 'VG_ERR_BAD_ARGUMENT' });
});

test('a scenario bridges a mu-law call to the OpenAI module with no transcoding, then hangs up cleanly', async () => {
  await initMedia();
  const emu = await startOpenAIRealtimeEmulator({
    brain: toneBrain({ freqHz: 440, toneMs: 400 }),
    audioSpeed: 20,
  });
  const transport = new MemoryTransport(ULAW_8K);
  const seen: string[] = [];
  let client: OpenAI.RealtimeAPIClient | undefined;
  const scenario = defineScenario('openai-bridge', () => {
    VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
      call.addEventListener(CallEvents.Connected, async () => {
        client = await OpenAI.createRealtimeAPIClient({
          apiKey: VoxEngine.getSecretValue('OPENAI_KEY') ?? '',
          baseUrl: `http://127.0.0.1:${emu.port}/`,
          bargeIn: true,
          onWebSocketClose: () => call.hangup(),
        });
        VoxEngine.sendMediaBetween(call, client);
        client.addEventListener(OpenAI.RealtimeAPIEvents.ResponseDone, function (this: unknown, e) {
          seen.push(`${e.data.customEvent}:${this === client}`);
        });
        client.addEventListener(OpenAI.Events.WebSocketMediaEnded, () => seen.push('media-ended'));
      });
      call.answer();
    });
  });
  const session = startSession(scenario, { transport, secrets: { OPENAI_KEY: 'sk-test' } });
  const errors: unknown[] = [];
  session.on('error', (e) => errors.push(e));
  try {
    const converters = mediaStats.convertersCreated;
    await until(() => client !== undefined, 'the client');
    await new Promise((r) => setImmediate(r));
    const turn = new Int16Array(8000 * 1.3);
    turn.set(voiced(8000, 500), 1600); // speech to the emulator's turn detector (a steady tone is not)
    transport.injectAudio(ulawEncode(turn));
    await until(() => seen.includes('media-ended'), 'the answer to play out');
    assert.ok(seen.includes('response.done:true'), 'handlers get {client, data} with the client as this');
    const heard = ulawDecode(transport.sentAudio());
    assert.ok(Math.abs(dominantFrequency(heard, 8000) - 440) < 10);
    assert.equal(mediaStats.convertersCreated, converters, 'mu-law both ways, no converter');
    const terminated = new Promise((resolve) => session.once('terminated', resolve));
    transport.hangup();
    await terminated;
    assert.ok(client?.closed, 'the session closed the client it tracked');
    assert.deepEqual(errors, []);
  } finally {
    client?.close();
    await emu.close();
  }
});
