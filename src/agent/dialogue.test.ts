import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_RULES_URL,
  type DialogueAction,
  type DialogueContext,
  decide,
  defaultDialogueRules,
  normalizeHeard,
  parseDialogueRules,
  speakable,
} from './dialogue.js';

const rules = defaultDialogueRules();
/** 2025-03-14 15:07 UTC, a Friday. */
const context: DialogueContext = {
  now: new Date(Date.UTC(2025, 2, 14, 15, 7)),
  timeZone: 'UTC',
  tools: ['get_weather'],
};

function heard(text: string, ctx: DialogueContext = context): DialogueAction[] {
  return decide({ kind: 'heard', text }, ctx, rules);
}

function said(actions: readonly DialogueAction[]): string {
  return actions.map((a) => (a.type === 'say' ? a.text : '')).join(' ');
}

describe('dialogue', () => {
  it('greets when the call starts and reprompts when idle', () => {
    const greeting = decide({ kind: 'start' }, context, rules);
    assert.equal(greeting.length, 1);
    assert.match(said(greeting), /^Hello!.*goodbye/i);
    assert.match(said(decide({ kind: 'idle' }, context, rules)), /still here/);
  });

  it('tells the time and the date', () => {
    assert.deepEqual(heard('What time is it?'), [{ type: 'say', text: 'It is 3:07 PM.' }]);
    assert.deepEqual(heard("what's the date today"), [
      { type: 'say', text: 'Today is Friday, March 14, 2025.' },
    ]);
    assert.equal(said(heard('what day is it')), 'Today is Friday, March 14, 2025.');
    assert.equal(said(heard('what is the day to day')), 'Today is Friday, March 14, 2025.');
  });

  it('calls get_weather with the city, title-cased', () => {
    assert.deepEqual(heard('what is the weather in paris'), [
      { type: 'tool_call', name: 'get_weather', arguments: { city: 'Paris' } },
    ]);
    assert.deepEqual(heard("What's the weather like in New York today?"), [
      { type: 'tool_call', name: 'get_weather', arguments: { city: 'New York' } },
    ]);
  });

  it('says so when the weather tool is not offered', () => {
    const actions = heard('weather in paris', { ...context, tools: [] });
    assert.equal(actions.length, 1);
    assert.match(said(actions), /cannot look up the weather in Paris/);
  });

  it('speaks a tool result with the call arguments', () => {
    const actions = decide(
      {
        kind: 'tool_result',
        name: 'get_weather',
        output: '{"temperature_c":18,"conditions":"sunny"}',
        arguments: { city: 'Paris' },
      },
      context,
      rules,
    );
    assert.deepEqual(actions, [
      { type: 'say', text: 'The weather in Paris: temperature c 18, conditions sunny.' },
    ]);
    const other = decide({ kind: 'tool_result', name: 'lookup_order', output: 'shipped' }, context, rules);
    assert.equal(said(other), 'The lookup order tool says: shipped.');
  });

  it('says goodbye and hangs up', () => {
    assert.deepEqual(heard('OK, goodbye!'), [
      { type: 'say', text: 'Goodbye! Thanks for calling.' },
      { type: 'hangup', reason: 'goodbye' },
    ]);
  });

  it('repeats what it heard', () => {
    assert.equal(said(heard('repeat after me the cat sat on the mat')), 'You said: the cat sat on the mat.');
    assert.equal(
      said(decide({ kind: 'heard', text: 'what did I say' }, { ...context, previous: 'hello there' }, rules)),
      'You said: hello there.',
    );
  });

  it('falls back with the words it heard, and handles silence', () => {
    const actions = heard('Purple monkeys, dishwasher!');
    assert.equal(actions.length, 1);
    assert.match(said(actions), /^You said: purple monkeys dishwasher\. I can tell you/);
    assert.match(said(heard('  ')), /did not catch that/);
    assert.match(said(decide({ kind: 'no_speech' }, context, rules)), /did not catch that/);
  });

  it('is pure: same input, same output', () => {
    assert.deepEqual(heard('what time is it'), heard('what time is it'));
  });
});

describe('dialogue rules', () => {
  const source = JSON.parse(readFileSync(DEFAULT_RULES_URL, 'utf8')) as Record<string, unknown>;

  it('loads the shipped dialogue.json', () => {
    assert.ok(rules.rules.length >= 5);
    assert.ok(rules.rules.every((r) => r.patterns.length > 0));
  });

  it('rejects a bad file with every problem named', () => {
    const bad = {
      ...source,
      greeting: '',
      rules: [
        { name: 'x', match: ['(unclosed'], say: 'hi {nope}' },
        { name: 'y', match: ['a'] },
      ],
    };
    assert.throws(
      () => parseDialogueRules(bad, 'test rules'),
      (err: Error & { code?: string }) =>
        err.code === 'VG_ERR_CONFIG' && /greeting/.test(err.message) && /rules\.1/.test(err.message),
    );
    const badPattern = { ...source, rules: [{ name: 'x', match: ['(unclosed'], say: 'hi {nope}' }] };
    assert.throws(
      () => parseDialogueRules(badPattern, 'test rules'),
      (err: Error) => /rules\.0 \(x\)\.match\.0/.test(err.message) && /\{nope\}/.test(err.message),
    );
    assert.throws(() => parseDialogueRules({ ...source, extra: 1 }), /extra|Unrecognized/i);
  });

  it('accepts an edited rule with its own placeholders', () => {
    const edited = parseDialogueRules({
      ...source,
      rules: [{ name: 'order', match: ['order (?<number>\\d+)'], say: 'Order {number} is on its way.' }],
    });
    assert.equal(
      said(decide({ kind: 'heard', text: 'where is order 42' }, context, edited)),
      'Order 42 is on its way.',
    );
  });
});

describe('dialogue helpers', () => {
  it('normalises heard text', () => {
    assert.equal(normalizeHeard("  What's  the WEATHER, in Paris?! "), "what's the weather in paris");
  });

  it('makes tool output speakable', () => {
    assert.equal(speakable('"Sunny and 18 degrees"'), 'Sunny and 18 degrees');
    assert.equal(speakable('{"a":1,"b":[2,3]}'), 'a 1, b 2, 3');
    assert.equal(speakable('not json'), 'not json');
    assert.equal(speakable('x'.repeat(400)).length, 300);
  });
});
