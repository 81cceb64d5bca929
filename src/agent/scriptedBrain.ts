/**
 * A brain for tests: answers exactly what the test says. Each session plays the script from its first step;
 * step n answers the session's n-th turn. A step is a list of parts, or a function of the turn that returns
 * parts (sync or async, so it can wait on `turn.signal` to model a slow answer). Past the end of the script a
 * turn gets an empty answer. Every turn received is recorded in `turns` for assertions.
 *
 * @example
 * ```ts
 * const brain = scriptedBrain([
 *   [{ type: 'text', text: 'Hi!' }, { type: 'audio', pcm: sine(440, 24000, 300), sampleRate: 24000 }],
 *   (turn) => [{ type: 'text', text: `Got ${turn.toolResults[0]?.output}` }],
 * ]);
 * ```
 */
import type { Brain, BrainAudio, BrainPart, BrainSession, BrainTurn } from './brain.js';

export type ScriptStep =
  | readonly BrainPart[]
  | ((turn: BrainTurn) => Iterable<BrainPart> | AsyncIterable<BrainPart> | Promise<readonly BrainPart[]>);

export interface ScriptedBrainOptions {
  /** Answers `transcribe()` (turns that get no response); default: no transcript. */
  readonly transcribe?: (audio: BrainAudio) => string | null;
}

export interface ScriptedBrain extends Brain {
  /** Every turn any session received, in order. */
  readonly turns: BrainTurn[];
  /** Sessions opened so far. */
  readonly sessions: number;
}

export function scriptedBrain(
  script: readonly ScriptStep[],
  options: ScriptedBrainOptions = {},
): ScriptedBrain {
  const turns: BrainTurn[] = [];
  let sessions = 0;
  return {
    name: 'scripted',
    turns,
    get sessions() {
      return sessions;
    },
    openSession(): BrainSession {
      sessions++;
      let next = 0;
      const session: BrainSession = {
        respond(turn) {
          turns.push(turn);
          return play(script[next++], turn);
        },
        close() {},
      };
      const transcribe = options.transcribe;
      if (transcribe !== undefined) session.transcribe = async (audio) => transcribe(audio);
      return session;
    },
  };
}

async function* play(step: ScriptStep | undefined, turn: BrainTurn): AsyncGenerator<BrainPart> {
  if (step === undefined) return;
  const parts = typeof step === 'function' ? step(turn) : step;
  const iterable = parts instanceof Promise ? await parts : parts;
  for await (const part of iterable) {
    if (turn.signal.aborted) return;
    yield part;
  }
}
