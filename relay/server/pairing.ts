import path from 'node:path';
import fs from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { readFileIfExists, writeFileAtomic } from './atomic-file.ts';

/**
 * Pairing: a short one-time code a person types, exchanged for a long random token the extension
 * keeps. Only SHA-256 digests are stored; both are high-entropy or rate-limited secrets, so a fast
 * hash is enough (no password-hashing cost needed) and the files reveal nothing usable.
 *
 * The pending code lives in a file (not only in memory) so that `mailkeep pair` can mint a fresh
 * one for a running relay: the relay reads the file on every POST /pair. Whoever can write the
 * data dir can also read the credential key, so the file adds no new trust boundary.
 */
export const PAIRING_CODE_FILE = 'pairing-code.json';
export const AUTH_FILE = 'auth.json';

// 32 symbols without I, O, 0 and 1 (easy to misread): 5 bits each, uniform with `byte & 31`.
const ALPHABET32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const CodeFile = z.object({ sha256: z.string().length(64), expiresAt: z.number() });
const AuthFile = z.object({ tokenSha256: z.string().length(64), pairedAt: z.string() });

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two secrets: compares equal-length digests, never the raw strings. */
export function secretsEqual(given: string, expectedSha256: Buffer): boolean {
  const got = sha256(given);
  return got.length === expectedSha256.length && timingSafeEqual(got, expectedSha256);
}

/** Case, spaces and dashes do not matter when a person types the code. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** Mints a fresh one-time code, stores its digest with an expiry, returns it as `ABCD-EFGH`. */
export function createPairingCode(dataDir: string, now: number = Date.now()): string {
  const bytes = randomBytes(DOOR_LIMITS.pairingCodeLength);
  const code = [...bytes].map((b) => ALPHABET32[b & 31]).join('');
  const record = { sha256: sha256(code).toString('hex'), expiresAt: now + DOOR_LIMITS.pairingCodeTtlMs };
  writeFileAtomic(path.join(dataDir, PAIRING_CODE_FILE), JSON.stringify(record));
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** True and the code is used up, or false (wrong, expired or none pending). */
export function consumePairingCode(dataDir: string, typed: string, now: number = Date.now()): boolean {
  const file = path.join(dataDir, PAIRING_CODE_FILE);
  const raw = readFileIfExists(file);
  if (raw === undefined) return false;
  const parsed = CodeFile.safeParse(safeJson(raw));
  if (!parsed.success) return false;
  const ok = secretsEqual(normalizeCode(typed), Buffer.from(parsed.data.sha256, 'hex'));
  if (!ok || now > parsed.data.expiresAt) return false;
  fs.rmSync(file, { force: true }); // one-time: a second use of the same code fails
  return true;
}

/** The paired token's digest, held in memory by the running relay. */
export class TokenStore {
  private digest: Buffer | undefined;

  constructor(private readonly dataDir: string) {
    const raw = readFileIfExists(path.join(dataDir, AUTH_FILE));
    const parsed = raw === undefined ? undefined : AuthFile.safeParse(safeJson(raw));
    if (parsed?.success) this.digest = Buffer.from(parsed.data.tokenSha256, 'hex');
  }

  get paired(): boolean {
    return this.digest !== undefined;
  }

  /** A new token replaces the previous pairing: only one extension install holds the relay. */
  issue(now: Date = new Date()): string {
    const token = `mk1_${randomBytes(DOOR_LIMITS.pairingTokenBytes).toString('base64url')}`;
    const digest = sha256(token);
    writeFileAtomic(
      path.join(this.dataDir, AUTH_FILE),
      JSON.stringify({ tokenSha256: digest.toString('hex'), pairedAt: now.toISOString() }),
    );
    this.digest = digest;
    return token;
  }

  verify(token: string | undefined): boolean {
    if (token === undefined || this.digest === undefined) return false;
    return secretsEqual(token, this.digest);
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
