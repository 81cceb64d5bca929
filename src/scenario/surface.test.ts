/**
 * The VoxEngine surface, name by name and value by value (spec/voxengine.md §2–§6, seeds 000 and 001).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Call } from './call.js';
import * as api from './voxengine.js';

const {
  AppEvents,
  CallEvents,
  Logger,
  Modules,
  VoxEngine,
  WebSocket,
  WebSocketAudioEncoding,
  WebSocketCloseCode,
  WebSocketEvents,
  WebSocketReadyState,
} = api;

describe('voxgate/voxengine surface', () => {
  it('exports the VoxEngine globals', () => {
    for (const name of [
      'VoxEngine',
      'AppEvents',
      'CallEvents',
      'WebSocket',
      'WebSocketEvents',
      'WebSocketReadyState',
      'WebSocketCloseCode',
      'WebSocketAudioEncoding',
      'Logger',
      'Modules',
    ]) {
      assert.ok(name in api, name);
    }
    assert.equal(typeof Logger.write, 'function');
    assert.equal(typeof Modules, 'object');
  });

  it('VoxEngine has its functions', () => {
    for (const name of [
      'addEventListener',
      'removeEventListener',
      'createWebSocket',
      'allowWebSocketConnections',
      'sendMediaBetween',
      'stopMediaBetween',
      'terminate',
      'customData',
      'getSecretValue',
      'enableTraceForIncomingWebsockets',
      'disableTraceForIncomingWebsockets',
      'enableStatisticsForIncomingWebsockets',
      'disableStatisticsForIncomingWebsockets',
    ]) {
      assert.equal(typeof (VoxEngine as Record<string, unknown>)[name], 'function', name);
    }
  });

  it('AppEvents and CallEvents have VoxEngine’s exact strings', () => {
    assert.deepEqual(
      { ...AppEvents },
      {
        Started: 'Application.Started',
        CallAlerting: 'Application.CallAlerting',
        Terminating: 'Application.Terminating',
        Terminated: 'Application.Terminated',
        HttpRequest: 'Application.HttpRequest',
        WebSocket: 'AppEvents.NewWebSocketConnection',
        NewWebSocketFailed: 'Application.OnNewWebSocketFailed',
      },
    );
    assert.deepEqual(
      { ...CallEvents },
      {
        Connected: 'Call.Connected',
        Disconnected: 'Call.Disconnected',
        Failed: 'Call.Failed',
        Ringing: 'Call.Ringing',
        AudioStarted: 'Call.AudioStarted',
        PlaybackFinished: 'Call.PlaybackFinished',
        ToneReceived: 'Call.ToneReceived',
        MessageReceived: 'Call.MessageReceived',
        StateChanged: 'Call.StateChanged',
      },
    );
  });

  it('the WebSocket enums have their exact values', () => {
    assert.deepEqual(
      { ...WebSocketEvents },
      {
        OPEN: 'WebSocket.Open',
        CLOSE: 'WebSocket.Close',
        MESSAGE: 'WebSocket.Message',
        ERROR: 'WebSocket.Error',
        CREATED: 'WebSocket.Created',
        MEDIA_STARTED: 'WebSocket.MediaEventStarted',
        MEDIA_ENDED: 'WebSocket.MediaEventEnded',
      },
    );
    assert.deepEqual(
      { ...WebSocketReadyState },
      { CLOSED: 'closed', CLOSING: 'closing', CONNECTING: 'connecting', OPEN: 'open' },
    );
    assert.deepEqual(
      { ...WebSocketCloseCode },
      {
        CLOSE_NORMAL: 1000,
        CLOSE_GOING_AWAY: 1001,
        CLOSE_PROTOCOL_ERROR: 1002,
        CLOSE_UNSUPPORTED: 1003,
        CLOSED_NO_STATUS: 1005,
        CLOSE_ABNORMAL: 1006,
        CLOSE_UNSUPPORTED_PAYLOAD: 1007,
        CLOSE_POLICY_VIOLATION: 1008,
        CLOSE_TOO_LARGE: 1009,
        CLOSE_MANDATORY_EXTENSION: 1010,
        CLOSE_SERVER_ERROR: 1011,
        CLOSE_SERVICE_RESTART: 1012,
        CLOSE_TRY_AGAIN_LATER: 1013,
        CLOSE_BAD_GATEWAY: 1014,
        CLOSE_TLS_FAIL: 1015,
      },
    );
    assert.deepEqual(
      { ...WebSocketAudioEncoding },
      {
        PCM16_8KHZ: 'PCM8',
        PCM16_16KHZ: 'PCM16',
        PCM8: 'PCM8',
        PCM16: 'PCM16',
        ALAW: 'ALAW',
        ULAW: 'ULAW',
        OPUS: 'OPUS',
      },
    );
  });

  it('WebSocket has every method and property of seed 000', () => {
    for (const name of [
      'addEventListener',
      'removeEventListener',
      'clearMediaBuffer',
      'close',
      'id',
      'send',
      'sendMediaTo',
      'stopMediaTo',
    ]) {
      assert.equal(
        typeof (WebSocket.prototype as unknown as Record<string, unknown>)[name],
        'function',
        name,
      );
    }
    for (const name of [
      'onopen',
      'onclose',
      'onerror',
      'onmessage',
      'oncreated',
      'onmediastarted',
      'onmediaended',
      'readyState',
    ]) {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      assert.equal(typeof descriptor?.get, 'function', `${name} is readable`);
      if (name !== 'readyState') assert.equal(typeof descriptor?.set, 'function', `${name} is settable`);
    }
    // `url` is an instance field; its presence is checked on a live socket in limits.test.ts.
  });

  it('Call has the methods voxgate implements', () => {
    for (const name of [
      'id',
      'state',
      'answer',
      'hangup',
      'reject',
      'callerid',
      'number',
      'customData',
      'sendMediaTo',
      'stopMediaTo',
      'addEventListener',
      'removeEventListener',
    ]) {
      assert.equal(typeof (Call.prototype as unknown as Record<string, unknown>)[name], 'function', name);
    }
  });
});
