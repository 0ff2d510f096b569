import fs from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { ImapAccount } from '../../lib/protocol/common.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.ts';

/**
 * IMAP accounts and their passwords, encrypted at rest (docs/threat-model.md):
 * - `secrets.key`: 32 random bytes, mode 0600, made on first use;
 * - `credentials.enc`: AES-256-GCM of the JSON account map, mode 0600, key = scrypt(secrets.key,
 *   per-file salt). A fresh 96-bit IV on every write; the GCM tag detects tampering.
 * The OS keyring (secret-tool) is not used yet: the file store is the only backend.
 * Nothing here logs, and no method returns a password except `get`, used only to open sessions.
 */
export const KEY_FILE = 'secrets.key';
export const CREDENTIALS_FILE = 'credentials.enc';

/**
 * An OAuth2 account's tokens (relay/oauth): the refresh token never leaves the relay; the access
 * token is cached with its expiry (ms) so a restart does not refresh at once.
 */
export const OAuthTokens = z.object({
  refreshToken: z.string().min(1),
  accessToken: z.string().min(1).optional(),
  accessExpiresAt: z.number().optional(),
});
export type OAuthTokens = z.infer<typeof OAuthTokens>;

const StoredAccount = z.object({ account: ImapAccount, password: z.string().optional(), oauth: OAuthTokens.optional() });
export type StoredAccount = z.infer<typeof StoredAccount>;
const Plain = z.object({ v: z.literal(1), accounts: z.record(z.string(), StoredAccount) });
const Envelope = z.object({
  v: z.literal(1),
  kdf: z.literal('scrypt'),
  salt: z.string(),
  iv: z.string(),
  tag: z.string(),
  data: z.string(),
});

export class CredentialStore {
  private readonly file: string;
  private key: Buffer;
  private salt: Buffer;
  private accounts: Map<string, StoredAccount>;

  private constructor(file: string, key: Buffer, salt: Buffer, accounts: Map<string, StoredAccount>) {
    this.file = file;
    this.key = key;
    this.salt = salt;
    this.accounts = accounts;
  }

  /** Opens (or creates) the store in the data dir. Derives the key once: scrypt is slow on purpose. */
  static open(dataDir: string): CredentialStore {
    const master = loadOrCreateMasterKey(path.join(dataDir, KEY_FILE));
    const file = path.join(dataDir, CREDENTIALS_FILE);
    const raw = readFileIfExists(file);
    if (raw === undefined) {
      const salt = randomBytes(16);
      return new CredentialStore(file, deriveKey(master, salt), salt, new Map());
    }
    const env = Envelope.safeParse(parseJson(raw));
    if (!env.success) throw mailkeepError('CREDENTIALS_UNREADABLE', `${CREDENTIALS_FILE} is not a Mailkeep credential file`);
    const salt = Buffer.from(env.data.salt, 'base64');
    const key = deriveKey(master, salt);
    let plain: string;
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(env.data.iv, 'base64'));
      d.setAuthTag(Buffer.from(env.data.tag, 'base64'));
      plain = Buffer.concat([d.update(Buffer.from(env.data.data, 'base64')), d.final()]).toString('utf8');
    } catch {
      // Wrong key file or a modified credential file: refuse rather than start with no accounts.
      throw mailkeepError('CREDENTIALS_UNREADABLE', `${CREDENTIALS_FILE} cannot be decrypted with ${KEY_FILE}`);
    }
    const data = Plain.parse(JSON.parse(plain));
    return new CredentialStore(file, key, salt, new Map(Object.entries(data.accounts)));
  }

  /** Stores settings; a given password replaces the stored one, an omitted one keeps it. */
  upsert(account: ImapAccount, password?: string): { hasPassword: boolean } {
    const previous = this.accounts.get(account.id);
    const next: StoredAccount = { account, password: password ?? previous?.password, ...(previous?.oauth ? { oauth: previous.oauth } : {}) };
    this.accounts.set(account.id, next);
    this.persist();
    return { hasPassword: hasCredential(next) };
  }

  /**
   * Stores an OAuth2 account's settings and tokens in one write. Rotation: a refresh that returned
   * a new refresh token is stored here (atomically: temp file + rename) before its access token is
   * used, so a crash never leaves only the spent one. A password stored earlier is dropped.
   */
  setOAuth(account: ImapAccount, tokens: OAuthTokens): void {
    this.accounts.set(account.id, { account, oauth: tokens });
    this.persist();
  }

  /** For the token manager only: never put the result in a frame, log or report. */
  getOAuth(accountId: string): OAuthTokens | undefined {
    return this.accounts.get(accountId)?.oauth;
  }

  delete(accountId: string): boolean {
    const had = this.accounts.delete(accountId);
    if (had) this.persist();
    return had;
  }

  /** For opening an IMAP session only. Never put the result in a frame, log or report. */
  get(accountId: string): StoredAccount | undefined {
    return this.accounts.get(accountId);
  }

  /** Settings and whether a password is stored: safe to send to the extension. */
  list(): { account: ImapAccount; hasPassword: boolean }[] {
    return [...this.accounts.values()].map((a) => ({ account: a.account, hasPassword: hasCredential(a) }));
  }

  has(accountId: string): boolean {
    return this.accounts.has(accountId);
  }

  private persist(): void {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const plain = JSON.stringify({ v: 1, accounts: Object.fromEntries(this.accounts) });
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    const envelope = {
      v: 1,
      kdf: 'scrypt',
      salt: this.salt.toString('base64'),
      iv: iv.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writeFileAtomic(this.file, JSON.stringify(envelope), 0o600);
  }
}

/** A password or OAuth2 tokens: what `hasPassword` reports (the account can log in without asking). */
export function hasCredential(a: StoredAccount | undefined): boolean {
  return a !== undefined && (a.password !== undefined || a.oauth !== undefined);
}

function loadOrCreateMasterKey(file: string): Buffer {
  try {
    const key = fs.readFileSync(file);
    if (key.length !== 32) throw mailkeepError('CREDENTIALS_UNREADABLE', `${KEY_FILE} must hold 32 bytes`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const key = randomBytes(32);
    writeFileAtomic(file, key, 0o600);
    return key;
  }
}

function deriveKey(master: Buffer, salt: Buffer): Buffer {
  return scryptSync(master, salt, 32, {
    N: DOOR_LIMITS.scryptN,
    r: DOOR_LIMITS.scryptR,
    p: DOOR_LIMITS.scryptP,
    maxmem: DOOR_LIMITS.scryptMaxMem,
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
