import path from 'node:path';
import fs from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.ts';

/**
 * Pairing: a short one-time code a person types (or the native host hands the extension),
 * exchanged for a long random token the extension keeps. Only SHA-256 digests are stored; both are
 * high-entropy or rate-limited secrets, so a fast hash is enough (no password-hashing cost needed)
 * and the files reveal nothing usable.
 *
 * Each pending code is its own file, `pairing-codes/<sha256 of the code>.json` holding its expiry,
 * so that `mailkeep pair` and the native host can mint codes for a running relay (which looks the
 * typed code up by its digest on every POST /pair) without a read-modify-write race between them:
 * two codes minted at once are both good, and a code is spent by unlinking its file, which exactly
 * one of two concurrent uses wins. Whoever can write the data dir can also read the credential
 * key, so these files add no new trust boundary.
 */
export const PAIRING_CODES_DIR = 'pairing-codes';
export const AUTH_FILE = 'auth.json';

// 32 symbols without I, O, 0 and 1 (easy to misread): 5 bits each, uniform with `byte & 31`.
const ALPHABET32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

const CodeFile = z.object({ expiresAt: z.number() });
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

function expiryOf(file: string): number | undefined {
  const raw = readFileIfExists(file);
  const parsed = raw === undefined ? undefined : CodeFile.safeParse(safeJson(raw));
  return parsed?.success ? parsed.data.expiresAt : undefined;
}

/** Drops expired or unreadable code files, and the oldest past the pending maximum (keeping room for one more). */
function sweepCodes(dir: string, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
  } catch {
    return;
  }
  const live: Array<{ name: string; expiresAt: number }> = [];
  for (const name of names) {
    const expiresAt = expiryOf(path.join(dir, name));
    if (expiresAt === undefined || now > expiresAt) fs.rmSync(path.join(dir, name), { force: true });
    else live.push({ name, expiresAt });
  }
  live.sort((a, b) => a.expiresAt - b.expiresAt);
  while (live.length >= DOOR_LIMITS.pairingCodesPendingMax) fs.rmSync(path.join(dir, live.shift()!.name), { force: true });
}

/** Mints a fresh one-time code, stores its digest with an expiry, returns it as `ABCD-EFGH`. */
export function createPairingCode(dataDir: string, now: number = Date.now()): string {
  const bytes = randomBytes(DOOR_LIMITS.pairingCodeLength);
  const code = [...bytes].map((b) => ALPHABET32[b & 31]).join('');
  const dir = path.join(dataDir, PAIRING_CODES_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  sweepCodes(dir, now);
  writeFileAtomic(path.join(dir, `${sha256(code).toString('hex')}.json`), JSON.stringify({ expiresAt: now + DOOR_LIMITS.pairingCodeTtlMs }));
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** True and the code is used up, or false (wrong, expired, already used, or none pending). */
export function consumePairingCode(dataDir: string, typed: string, now: number = Date.now()): boolean {
  const normalized = normalizeCode(typed);
  if (normalized.length !== DOOR_LIMITS.pairingCodeLength) return false;
  // Looked up by digest: the file name says nothing about the code, and a wrong guess finds nothing.
  const file = path.join(dataDir, PAIRING_CODES_DIR, `${sha256(normalized).toString('hex')}.json`);
  const expiresAt = expiryOf(file);
  if (expiresAt === undefined) return false;
  try {
    fs.unlinkSync(file); // one-time: of two concurrent uses, only one unlinks it
  } catch {
    return false;
  }
  return now <= expiresAt;
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
