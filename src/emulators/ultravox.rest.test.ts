/**
 * The Ultravox emulator's REST side: the API key, call creation with the documented defaults, validation in the
 * service's 400 shape, agent calls, the join timeout, and the call resource.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { postJson, RawUltravoxClient, request, socketCall } from './ultravox/testing.js';
import { startUltravoxEmulator, type UltravoxEmulator } from './ultravox.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Ultravox emulator REST', () => {
  let emu: UltravoxEmulator;
  before(async () => {
    emu = await startUltravoxEmulator({
      apiKey: 'test-key',
      brain: scriptedBrain([]),
      agents: { 'agent-1': { systemPrompt: 'You are agent one.', voice: 'Mark' } },
    });
  });
  after(() => emu.close());

  test('X-API-Key is required, and must be the configured one', async () => {
    const none = await postJson(emu.baseUrl, '/api/calls', socketCall(), null);
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { detail: 'Authentication credentials were not provided.' });
    const wrong = await postJson(emu.baseUrl, '/api/calls', socketCall(), 'nope');
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { detail: 'Invalid API key.' });
  });

  test('POST /api/calls answers 201 with callId, joinUrl and the documented defaults', async () => {
    const { status, body } = await postJson(emu.baseUrl, '/api/calls', {
      ...socketCall(16000),
      systemPrompt: 'Be brief.',
      somethingNew: { ignored: true },
    });
    assert.equal(status, 201);
    assert.match(body.callId, UUID);
    assert.equal(body.joinUrl, `ws://127.0.0.1:${emu.port}/calls/${body.callId}/join`);
    assert.deepEqual(body.medium, {
      serverWebSocket: { inputSampleRate: 16000, outputSampleRate: 16000, clientBufferSizeMs: 60 },
    });
    assert.equal(body.systemPrompt, 'Be brief.');
    assert.equal(body.joinTimeout, '30s');
    assert.equal(body.maxDuration, '3600s');
    assert.equal(body.temperature, 0);
    assert.equal(body.model, 'ultravox-v0.7');
    assert.deepEqual(body.firstSpeakerSettings, { agent: {} });
    assert.equal(body.initialOutputMedium, 'MESSAGE_MEDIUM_VOICE');
    assert.deepEqual(body.vadSettings, {
      turnEndpointDelay: '0.384s',
      minimumTurnDuration: '0s',
      minimumInterruptionDuration: '0.09s',
      frameActivationThreshold: 0.1,
    });
    assert.equal(body.created !== null && body.joined === null && body.ended === null, true);
    assert.equal('somethingNew' in body, false);
  });

  test('wrong types are refused with 400 and {"<field>": [messages]}', async () => {
    const cases: [unknown, string][] = [
      [{ temperature: 'warm' }, 'temperature'],
      [{ medium: { serverWebSocket: { inputSampleRate: 16000 }, twilio: {} } }, 'medium'],
      [
        { medium: { serverWebSocket: { outputSampleRate: 16000 } } },
        'medium.serverWebSocket.inputSampleRate',
      ],
      [{ joinTimeout: '30 seconds' }, 'joinTimeout'],
      [
        { selectedTools: [{ temporaryTool: { modelToolName: 'has space' } }] },
        'selectedTools.0.temporaryTool.modelToolName',
      ],
      [{ firstSpeakerSettings: { user: {}, agent: {} } }, 'firstSpeakerSettings'],
    ];
    for (const [body, field] of cases) {
      const answer = await postJson(emu.baseUrl, '/api/calls', body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.ok(Array.isArray(answer.body[field]), `${field} in ${JSON.stringify(answer.body)}`);
    }
    const notJson = await postJson(emu.baseUrl, '/api/calls', '{"systemPrompt":');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.detail, /^JSON parse error/);
  });

  test('POST /api/agents/{agentId}/calls starts from the agent and takes the request fields', async () => {
    const { status, body } = await postJson(emu.baseUrl, '/api/agents/agent-1/calls', {
      ...socketCall(8000),
      templateContext: { name: 'Ann' },
      maxDuration: '60s',
    });
    assert.equal(status, 201);
    assert.equal(body.agentId, 'agent-1');
    assert.deepEqual(body.agent, { agentId: 'agent-1', name: 'agent-1' });
    assert.equal(body.systemPrompt, 'You are agent one.');
    assert.equal(body.voice, 'Mark');
    assert.equal(body.maxDuration, '60s');
    assert.equal(body.medium.serverWebSocket.outputSampleRate, 8000);
    const unknown = await postJson(emu.baseUrl, '/api/agents/nobody/calls', socketCall());
    assert.equal(unknown.status, 404);
  });

  test('a call nobody joins within joinTimeout ends "unjoined" and cannot be joined', async () => {
    const { body } = await postJson(emu.baseUrl, '/api/calls', socketCall(16000, { joinTimeout: '0.1s' }));
    await sleep(250);
    const view = await request(emu.baseUrl, 'GET', `/api/calls/${body.callId}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.endReason, 'unjoined');
    assert.notEqual(view.body.ended, null);
    await assert.rejects(RawUltravoxClient.join(body.joinUrl), /409/);
    await assert.rejects(RawUltravoxClient.join(`ws://127.0.0.1:${emu.port}/calls/not-a-call/join`), /404/);
  });

  test('a call is joined once; GET shows it; send_data_message is 422 before the join, 204 after', async () => {
    const { body } = await postJson(emu.baseUrl, '/api/calls', socketCall(16000));
    const early = await postJson(emu.baseUrl, `/api/calls/${body.callId}/send_data_message`, {
      type: 'hang_up',
      message: '',
    });
    assert.equal(early.status, 422);
    const client = await RawUltravoxClient.join(`${body.joinUrl}?clientVersion=test-1`);
    await client.next('call_started');
    await assert.rejects(RawUltravoxClient.join(body.joinUrl), /409/);
    const view = await request(emu.baseUrl, 'GET', `/api/calls/${body.callId}`);
    assert.notEqual(view.body.joined, null);
    assert.equal(view.body.clientVersion, 'test-1');
    const bad = await postJson(emu.baseUrl, `/api/calls/${body.callId}/send_data_message`, {
      type: 'ping',
      timestamp: 1,
    });
    assert.equal(bad.status, 400);
    const ok = await postJson(emu.baseUrl, `/api/calls/${body.callId}/send_data_message`, {
      type: 'hang_up',
      message: '',
    });
    assert.equal(ok.status, 204);
    assert.equal((await client.closed).code, 1000);
    assert.equal(
      (await request(emu.baseUrl, 'GET', `/api/calls/${body.callId}`)).body.endReason,
      'agent_hangup',
    );
  });

  test('DELETE ends and removes a call; unknown paths and methods get 404/405', async () => {
    const { body } = await postJson(emu.baseUrl, '/api/calls', socketCall(16000));
    const client = await RawUltravoxClient.join(body.joinUrl);
    assert.equal((await request(emu.baseUrl, 'DELETE', `/api/calls/${body.callId}`)).status, 204);
    assert.equal((await client.closed).code, 1000);
    assert.equal((await request(emu.baseUrl, 'GET', `/api/calls/${body.callId}`)).status, 404);
    assert.equal((await request(emu.baseUrl, 'GET', '/api/nothing')).status, 404);
    assert.equal((await request(emu.baseUrl, 'GET', '/api/calls')).status, 405);
  });

  test('a call without medium.serverWebSocket is created, but the join is refused', async () => {
    const { status, body } = await postJson(emu.baseUrl, '/api/calls', { systemPrompt: 'hi' });
    assert.equal(status, 201);
    assert.deepEqual(body.medium, { webRtc: {} });
    await assert.rejects(RawUltravoxClient.join(body.joinUrl), /400/);
  });
});
