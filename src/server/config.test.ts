import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../errors.js';
import { isLoopback, parseServerConfig, resolveServerConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'voxgate-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'VG_ERR_CONFIG');
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('server config', () => {
  test('safe defaults: loopback, port 8080, open, the default scenario', () => {
    const config = resolveServerConfig();
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.apiKey, undefined);
    assert.equal(config.scenario, 'default');
    assert.equal(config.limits.maxFrameBytes, 65536);
    assert.equal(config.timeouts.tokenTtlMs, 60000);
  });

  test('flags override the environment, which overrides the config file', () => {
    const path = file('a.json', JSON.stringify({ port: 7000, scenario: 'echo', limits: { maxCalls: 3 } }));
    const fromFile = resolveServerConfig({ flags: { config: path } });
    assert.deepEqual([fromFile.port, fromFile.scenario, fromFile.limits.maxCalls], [7000, 'echo', 3]);
    assert.equal(fromFile.limits.maxFrameBytes, 65536, 'unset limits keep their defaults');
    const env = { VOXGATE_CONFIG: path, VOXGATE_PORT: '7001', VOXGATE_MAX_CALLS: '4' };
    assert.equal(resolveServerConfig({ env }).port, 7001);
    const both = resolveServerConfig({ env, flags: { port: '7002' } });
    assert.deepEqual([both.port, both.limits.maxCalls, both.scenario], [7002, 4, 'echo']);
  });

  test('a bad value names the field and where it came from', () => {
    const flag = configError(() => resolveServerConfig({ flags: { port: 'eighty' } }));
    assert.match(flag.message, /port: .*\(from --port\)/);
    const env = configError(() => resolveServerConfig({ env: { VOXGATE_PORT: '70000' } }));
    assert.match(env.message, /port: .*\(from VOXGATE_PORT\)/);
    const path = file('b.json', JSON.stringify({ limits: { maxFrameBytes: 10 } }));
    const fromFile = configError(() => resolveServerConfig({ flags: { config: path } }));
    assert.match(fromFile.message, /limits\.maxFrameBytes: .*\(from config file .*b\.json\)/);
  });

  test('a short API key is refused without printing it', () => {
    const err = configError(() => resolveServerConfig({ flags: { key: 'abc' } }));
    assert.match(err.message, /apiKey: an API key needs at least 8 characters/);
    assert.ok(!err.message.includes('abc'));
  });

  test('an unreadable or malformed config file says which and why', () => {
    assert.match(
      configError(() => resolveServerConfig({ file: join(dir, 'missing.json') })).message,
      /cannot read config file/,
    );
    assert.match(
      configError(() => resolveServerConfig({ file: file('c.json', '{port:') })).message,
      /not valid JSON/,
    );
    assert.match(
      configError(() => resolveServerConfig({ file: file('d.json', '[]') })).message,
      /must hold a JSON object/,
    );
  });

  test('a non-loopback host needs an API key or --insecure', () => {
    const err = configError(() => parseServerConfig({ host: '0.0.0.0' }));
    assert.match(err.message, /refusing to listen on 0\.0\.0\.0 without an API key/);
    assert.equal(parseServerConfig({ host: '0.0.0.0', apiKey: 'a-long-enough-key' }).host, '0.0.0.0');
    assert.equal(resolveServerConfig({ flags: { host: '0.0.0.0', insecure: true } }).insecure, true);
    assert.equal(
      resolveServerConfig({ env: { VOXGATE_HOST: '0.0.0.0', VOXGATE_INSECURE: '1' } }).insecure,
      true,
    );
    assert.ok(
      isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && !isLoopback('10.0.0.1'),
    );
  });
});

describe('agent selection', () => {
  const SECRET = 'sk-never-print-this-0123456789';

  test('default: openai with an OpenAI key, else ultravox with an Ultravox key, else local', () => {
    assert.equal(resolveServerConfig({ env: {} }).agent, 'local');
    const openai = resolveServerConfig({ env: { OPENAI_API_KEY: SECRET, ULTRAVOX_API_KEY: SECRET } });
    assert.equal(openai.agent, 'openai');
    assert.equal(openai.openai.apiKey, SECRET);
    assert.equal(openai.openai.baseUrl, 'https://api.openai.com/');
    assert.equal(resolveServerConfig({ env: { ULTRAVOX_API_KEY: SECRET } }).agent, 'ultravox');
  });

  test('--agent beats VOXGATE_AGENT beats the keys; provider settings come from the environment', () => {
    const env = {
      VOXGATE_AGENT: 'echo',
      OPENAI_API_KEY: SECRET,
      OPENAI_BASE_URL: 'http://127.0.0.1:9999/',
      OPENAI_MODEL: 'gpt-realtime-mini',
      ULTRAVOX_BASE_URL: 'http://127.0.0.1:9998',
    };
    const fromEnv = resolveServerConfig({ env });
    assert.equal(fromEnv.agent, 'echo');
    assert.deepEqual(fromEnv.openai, {
      apiKey: SECRET,
      baseUrl: 'http://127.0.0.1:9999/',
      model: 'gpt-realtime-mini',
    });
    assert.equal(fromEnv.ultravox.baseUrl, 'http://127.0.0.1:9998');
    assert.equal(resolveServerConfig({ env, flags: { agent: 'local' } }).agent, 'local');
  });

  test('an unknown agent, or a cloud agent without its key, stops the start; keys never appear', () => {
    const unknown = configError(() => resolveServerConfig({ flags: { agent: 'gpt' } }));
    assert.match(
      unknown.message,
      /agent: must be one of local, openai, ultravox, ultravox-local, echo \(from --agent\)/,
    );
    const openai = configError(() => resolveServerConfig({ env: { VOXGATE_AGENT: 'openai' } }));
    assert.match(
      openai.message,
      /agent 'openai' \(from VOXGATE_AGENT\) needs an OpenAI API key: set OPENAI_API_KEY/,
    );
    const ultravox = configError(() => resolveServerConfig({ flags: { agent: 'ultravox' } }));
    assert.match(ultravox.message, /needs an Ultravox API key: set ULTRAVOX_API_KEY/);
    const badUrl = configError(() =>
      resolveServerConfig({ env: { OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: 'ftp://x' } }),
    );
    assert.match(badUrl.message, /openai\.baseUrl: .*\(from OPENAI_BASE_URL\)/);
    for (const err of [unknown, openai, ultravox, badUrl]) assert.ok(!err.message.includes(SECRET));
  });
});
