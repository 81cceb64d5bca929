import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Secrets compared in constant time: the API key (`Authorization: Bearer <key>`) and the per-call socket tokens.
 * Both sides are hashed first, so the comparison takes the same time whatever the lengths. Secrets are never
 * logged or stored in clear: a call keeps only its token's hash.
 */

/** Bytes of entropy in a call token (192 bits; the URL must be unguessable, at least 128). */
export const TOKEN_BYTES = 24;

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time check of a presented secret against a stored hash. */
export function secretMatches(presented: string, storedHash: Buffer): boolean {
  return timingSafeEqual(hashSecret(presented), storedHash);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

export type AuthResult = 'ok' | 'missing' | 'wrong';

/** Checks a request's bearer key against the server's; `ok` when the server has no key. */
export class ApiKeyAuth {
  readonly #hash: Buffer | null;

  constructor(apiKey: string | undefined) {
    this.#hash = apiKey === undefined ? null : hashSecret(apiKey);
  }

  get enabled(): boolean {
    return this.#hash !== null;
  }

  check(headers: IncomingHttpHeaders): AuthResult {
    if (this.#hash === null) return 'ok';
    const token = bearerToken(headers);
    if (token === undefined) return 'missing';
    return secretMatches(token, this.#hash) ? 'ok' : 'wrong';
  }
}
