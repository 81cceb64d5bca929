/**
 * The local agent's dialogue: a pure function from (what happened, context) to actions, driven by rules a user can
 * edit in dialogue.json (there is no bundled LLM: spec/dependencies.md §8).
 *
 * - call start → the greeting; a turn with nothing new → the reprompt
 * - heard text → the first rule whose pattern matches: say a template, call a tool, and/or hang up
 * - nothing recognised → `noSpeech`; no rule matched → `fallback` (which includes the words heard)
 * - a tool result → `toolResults[tool]` (or `toolResults['*']`) with the result spoken
 *
 * Rules are validated when loaded: schema (zod), patterns compile, every placeholder is one the template can have.
 *
 * @example
 * ```ts
 * const rules = defaultDialogueRules();
 * decide({ kind: 'heard', text: 'what is the weather in paris' }, { now: new Date(), tools: ['get_weather'] }, rules);
 * // → [{ type: 'tool_call', name: 'get_weather', arguments: { city: 'Paris' } }]
 * ```
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export type DialogueAction =
  | { readonly type: 'say'; readonly text: string }
  | {
      readonly type: 'tool_call';
      readonly name: string;
      readonly arguments: Readonly<Record<string, string>>;
    }
  | { readonly type: 'hangup'; readonly reason: string };

export type DialogueInput =
  /** The call started: greet. */
  | { readonly kind: 'start' }
  /** Asked to speak with nothing new to answer. */
  | { readonly kind: 'idle' }
  /** The caller's words (recognised or typed). */
  | { readonly kind: 'heard'; readonly text: string }
  /** The caller spoke but nothing was recognised. */
  | { readonly kind: 'no_speech' }
  /** A tool this dialogue called has answered. */
  | {
      readonly kind: 'tool_result';
      readonly name: string;
      readonly output: string;
      /** The call's arguments, when known (they fill the template's placeholders). */
      readonly arguments?: Readonly<Record<string, unknown>>;
    };

export interface DialogueContext {
  readonly now: Date;
  /** IANA zone for {time} and {date}; default the process's. */
  readonly timeZone?: string;
  /** Names of the tools the caller's side offers; a rule's tool call is made only when its tool is here. */
  readonly tools: readonly string[];
  /** What the caller said the turn before, for {previous}. */
  readonly previous?: string;
}

const template = z.string().min(1).max(2000);
const ruleSchema = z
  .object({
    name: z.string().min(1).max(100),
    match: z.array(z.string().min(1).max(1000)).min(1),
    say: template.optional(),
    tool: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a tool name is 1-64 letters, digits, _ or -'),
        arguments: z.record(z.string(), template),
        unavailable: template.optional(),
      })
      .strict()
      .optional(),
    hangup: z.boolean().optional(),
  })
  .strict()
  .refine((rule) => rule.say !== undefined || rule.tool !== undefined, {
    message: 'a rule needs "say" or "tool"',
  });

const rulesSchema = z
  .object({
    $comment: z.string().optional(),
    greeting: template,
    reprompt: template,
    noSpeech: template,
    fallback: template,
    echoIntro: template,
    rules: z.array(ruleSchema),
    toolResults: z.record(z.string(), template).refine((t) => t['*'] !== undefined, {
      message: 'toolResults needs a "*" entry for tools without their own template',
    }),
  })
  .strict();

type RuleSource = z.infer<typeof ruleSchema>;
type RulesSource = z.infer<typeof rulesSchema>;

export interface DialogueRule extends RuleSource {
  readonly patterns: readonly RegExp[];
}

/** Validated, compiled rules. Build with {@link parseDialogueRules} or {@link loadDialogueRules}. */
export interface DialogueRules extends Omit<RulesSource, 'rules' | '$comment'> {
  readonly rules: readonly DialogueRule[];
}

const BUILTINS = ['heard', 'previous', 'time', 'date'];
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(\|title)?\}/g;

/** Validates rules from parsed JSON; throws a ConfigError that names every problem and where it is. */
export function parseDialogueRules(json: unknown, source = 'dialogue rules'): DialogueRules {
  const parsed = rulesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ConfigError(`${source} are invalid: ${problems.join('; ')}`);
  }
  const data = parsed.data;
  const problems: string[] = [];
  const rules = data.rules.map((rule, index): DialogueRule => {
    const where = `rules.${index} (${rule.name})`;
    const groups = new Set<string>();
    const patterns = rule.match.map((source, i) => {
      try {
        const re = new RegExp(source, 'iu');
        for (const m of source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)) groups.add(m[1]!);
        return re;
      } catch (err) {
        problems.push(`${where}.match.${i}: ${(err as Error).message}`);
        return /$^/;
      }
    });
    const known = new Set([...BUILTINS, ...groups]);
    checkPlaceholders(rule.say, known, `${where}.say`, problems);
    checkPlaceholders(rule.tool?.unavailable, known, `${where}.tool.unavailable`, problems);
    for (const [key, value] of Object.entries(rule.tool?.arguments ?? {})) {
      checkPlaceholders(value, known, `${where}.tool.arguments.${key}`, problems);
    }
    return { ...rule, patterns };
  });
  for (const key of ['greeting', 'reprompt', 'noSpeech', 'echoIntro'] as const) {
    checkPlaceholders(data[key], new Set(['time', 'date', 'previous']), key, problems);
  }
  checkPlaceholders(data.fallback, new Set(BUILTINS), 'fallback', problems);
  for (const [tool, text] of Object.entries(data.toolResults)) {
    // Arguments are known for tools our rules call; '*' and other tools may name any (a missing one renders empty).
    const callers = data.rules.filter((rule) => rule.tool?.name === tool);
    if (callers.length === 0) continue;
    const args = new Set(['tool', 'result', 'time', 'date', 'previous']);
    for (const rule of callers) for (const k of Object.keys(rule.tool?.arguments ?? {})) args.add(k);
    checkPlaceholders(text, args, `toolResults.${tool}`, problems);
  }
  if (problems.length > 0) throw new ConfigError(`${source} are invalid: ${problems.join('; ')}`);
  const { $comment: _comment, ...rest } = data;
  return { ...rest, rules };
}

function checkPlaceholders(
  text: string | undefined,
  known: Set<string>,
  where: string,
  problems: string[],
): void {
  if (text === undefined) return;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!known.has(m[1]!))
      problems.push(`${where}: unknown placeholder {${m[1]}} (known: ${[...known].join(', ')})`);
  }
}

/** Reads and validates a rules file (JSON). */
export function loadDialogueRules(path: string | URL): DialogueRules {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read dialogue rules from ${String(path)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseDialogueRules(json, String(path));
}

export const DEFAULT_RULES_URL = new URL('./dialogue.json', import.meta.url);
let defaults: DialogueRules | null = null;

/** The rules shipped in dialogue.json, loaded once. */
export function defaultDialogueRules(): DialogueRules {
  defaults ??= loadDialogueRules(DEFAULT_RULES_URL);
  return defaults;
}

/** Lower case, letters/digits/apostrophes only, single spaces: what rules match against. */
export function normalizeHeard(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What to do next. Pure: same input, context and rules, same actions. */
export function decide(
  input: DialogueInput,
  context: DialogueContext,
  rules: DialogueRules,
): DialogueAction[] {
  const vars = baseVars(context);
  switch (input.kind) {
    case 'start':
      return [say(render(rules.greeting, vars))];
    case 'idle':
      return [say(render(rules.reprompt, vars))];
    case 'no_speech':
      return [say(render(rules.noSpeech, vars))];
    case 'tool_result':
      return toolResult(input, vars, rules);
    case 'heard':
      return heard(normalizeHeard(input.text), context, vars, rules);
  }
}

function heard(
  text: string,
  context: DialogueContext,
  vars: Record<string, string>,
  rules: DialogueRules,
): DialogueAction[] {
  if (text === '') return [say(render(rules.noSpeech, vars))];
  vars.heard = text;
  for (const rule of rules.rules) {
    const m = firstMatch(rule.patterns, text);
    if (m === null) continue;
    for (const [k, v] of Object.entries(m.groups ?? {})) vars[k] = v?.trim() ?? '';
    const actions: DialogueAction[] = [];
    if (rule.say !== undefined) actions.push(say(render(rule.say, vars)));
    if (rule.tool !== undefined) {
      if (context.tools.includes(rule.tool.name)) {
        const args: Record<string, string> = {};
        for (const [k, v] of Object.entries(rule.tool.arguments)) args[k] = render(v, vars);
        actions.push({ type: 'tool_call', name: rule.tool.name, arguments: args });
        return actions;
      }
      if (rule.tool.unavailable !== undefined) actions.push(say(render(rule.tool.unavailable, vars)));
    }
    if (rule.hangup === true) actions.push({ type: 'hangup', reason: rule.name });
    if (actions.length > 0) return actions;
  }
  return [say(render(rules.fallback, vars))];
}

function toolResult(
  input: Extract<DialogueInput, { kind: 'tool_result' }>,
  vars: Record<string, string>,
  rules: DialogueRules,
): DialogueAction[] {
  vars.tool = input.name.replace(/_/g, ' ');
  vars.result = speakable(input.output);
  for (const [k, v] of Object.entries(input.arguments ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') vars[k] = String(v);
  }
  const text = rules.toolResults[input.name] ?? rules.toolResults['*']!;
  return [say(render(text, vars))];
}

function firstMatch(patterns: readonly RegExp[], text: string): RegExpExecArray | null {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m !== null) return m;
  }
  return null;
}

function say(text: string): DialogueAction {
  return { type: 'say', text };
}

function baseVars(context: DialogueContext): Record<string, string> {
  const timeZone = context.timeZone;
  return {
    time: context.now.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone }),
    date: context.now.toLocaleDateString('en-US', {
      weekday: 'long',
      month: 'long',
      day: 'numeric',
      year: 'numeric',
      timeZone,
    }),
    previous: context.previous === undefined || context.previous === '' ? 'nothing yet' : context.previous,
  };
}

/** Fills `{name}` and `{name|title}`; an unknown or missing value renders empty. */
export function render(text: string, vars: Readonly<Record<string, string>>): string {
  return text
    .replace(PLACEHOLDER, (_all, name: string, filter: string | undefined) => {
      const value = vars[name] ?? '';
      return filter === undefined ? value : titleCase(value);
    })
    .replace(/\s+([.,!?])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

function titleCase(text: string): string {
  return text.replace(/(^|[\s-])(\p{L})/gu, (_all, sep: string, ch: string) => sep + ch.toUpperCase());
}

/**
 * A tool's output as a phrase: a JSON string as is; a JSON object as "key value" pairs (`temperature 18,
 * conditions sunny`); anything else as the raw text. Clipped to 300 characters.
 */
export function speakable(output: string): string {
  let text = output.trim();
  try {
    text = phrase(JSON.parse(text) as unknown);
  } catch {
    // not JSON: speak it as is
  }
  return text.length <= 300 ? text : `${text.slice(0, 297)}...`;
}

function phrase(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(phrase).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k.replace(/[_-]+/g, ' ')} ${phrase(v)}`.trim())
      .join(', ');
  }
  return String(value);
}
