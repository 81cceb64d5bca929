#!/usr/bin/env node
// voxgate ships its TypeScript sources and runs them through tsx, so user scenarios written in TypeScript load
// the same way and the package needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
