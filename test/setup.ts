/**
 * Loaded before every test file (`--import ./test/setup.ts`). Keeps the console quiet: logs go nowhere unless
 * VOXGATE_LOG_LEVEL is set, and a test that writes to console.log/console.error fails, so stray output is a bug
 * we see (openai-agents-js's console guard).
 */
import { setLogLevel } from '../src/log.js';

if (process.env.VOXGATE_LOG_LEVEL === undefined) setLogLevel('silent');

for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[method] = (...args: unknown[]): void => {
    throw new Error(`unexpected console.${method} in a test: ${args.map(String).join(' ').slice(0, 200)}`);
  };
}
