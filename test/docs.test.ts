import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../src/errors.js';

describe('docs', () => {
  it('docs/errors.md lists every error code once', () => {
    const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const codes = Object.values(ErrorCodes);
    assert.equal(new Set(codes).size, codes.length, 'no two names share a code');
    for (const code of codes) {
      const rows = page.split('\n').filter((line) => line.startsWith(`| \`${code}\``));
      assert.equal(rows.length, 1, `${code} has one row in docs/errors.md`);
    }
  });
});
