import fs from 'node:fs';
import path from 'node:path';
import { z } from '../../lib/zod.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { writeFileAtomic } from '../fs/atomic-file.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * An OAuth2 provider for IMAP: the built-ins (Google, Microsoft) and a custom provider file
 * (docs/oauth.md) share this one shape. Client IDs are configuration, never code: a built-in gets
 * its client ID from `<data dir>/providers.json` or MAILKEEP_OAUTH_<ID>_CLIENT_ID.
 */
export const OAuthProvider = z.strictObject({
  /** File-name safe; stored in the account's settings (auth.provider). Custom files may omit it. */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/).optional(),
  name: z.string().min(1).max(100),
  authorizationEndpoint: z.url({ protocol: /^https?$/ }),
  tokenEndpoint: z.url({ protocol: /^https?$/ }),
  revocationEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  clientId: z.string().min(1).max(512).optional(),
  /** Google "Desktop app" clients have one; it is not a secret there (RFC 8252 §8.5). */
  clientSecret: z.string().min(1).max(512).optional(),
  scopes: z.array(z.string().min(1).max(512)).min(1).max(32),
  /** Extra authorization-request parameters, e.g. Google's access_type=offline + prompt=consent. */
  authorizationParams: z.record(z.string(), z.string().max(256)).optional(),
  imap: z.strictObject({
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    security: z.enum(['tls', 'starttls', 'none']),
  }),
});
export type OAuthProvider = z.infer<typeof OAuthProvider>;
/** A provider ready to use: it has an id and a client ID. */
export type ConfiguredProvider = OAuthProvider & { id: string; clientId: string };

export const BUILT_IN_PROVIDERS: Readonly<Record<'google' | 'microsoft', OAuthProvider>> = {
  google: OAuthProvider.parse({
    id: 'google',
    name: 'Google',
    authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenEndpoint: 'https://oauth2.googleapis.com/token',
    revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
    scopes: ['https://mail.google.com/'],
    // Without offline access Google returns no refresh token; consent makes it return one again
    // after the person removed and re-added access.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    imap: { host: 'imap.gmail.com', port: 993, security: 'tls' },
  }),
  microsoft: OAuthProvider.parse({
    id: 'microsoft',
    name: 'Microsoft',
    // `common`: personal (Outlook.com, Hotmail) and work or school accounts alike.
    authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access'],
    imap: { host: 'outlook.office365.com', port: 993, security: 'tls' },
  }),
};

/** `<data dir>/providers.json`: `{ "google": { "clientId": "…", "clientSecret": "…" }, "microsoft": { "clientId": "…" } }`. */
export const PROVIDERS_FILE = 'providers.json';
/** Custom providers used by an account are copied here, so the relay can refresh without the original file. */
export const CUSTOM_PROVIDERS_DIR = 'oauth-providers';

const ClientConfig = z.record(z.string(), z.strictObject({ clientId: z.string().min(1).max(512).optional(), clientSecret: z.string().min(1).max(512).optional() }));

export interface ProviderSource {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * `google`, `microsoft`, an id of a custom provider an account already uses, or the path of a
 * custom provider JSON file. Refuses with OAUTH_NOT_CONFIGURED when there is no client ID.
 */
export function resolveProvider(ref: string, src: ProviderSource): ConfiguredProvider {
  const env = src.env ?? process.env;
  let provider: OAuthProvider;
  if (ref === 'google' || ref === 'microsoft') {
    const config = readClientConfig(src.dataDir)[ref] ?? {};
    const upper = ref.toUpperCase();
    provider = {
      ...BUILT_IN_PROVIDERS[ref],
      ...(config.clientId ? { clientId: config.clientId } : {}),
      ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}),
      ...(env[`MAILKEEP_OAUTH_${upper}_CLIENT_ID`] ? { clientId: env[`MAILKEEP_OAUTH_${upper}_CLIENT_ID`] } : {}),
      ...(env[`MAILKEEP_OAUTH_${upper}_CLIENT_SECRET`] ? { clientSecret: env[`MAILKEEP_OAUTH_${upper}_CLIENT_SECRET`] } : {}),
    };
  } else if (/^[a-z0-9][a-z0-9_-]{0,63}$/.test(ref) && fs.existsSync(path.join(src.dataDir, CUSTOM_PROVIDERS_DIR, `${ref}.json`))) {
    provider = readProviderFile(path.join(src.dataDir, CUSTOM_PROVIDERS_DIR, `${ref}.json`));
  } else if (ref.includes('/') || ref.endsWith('.json')) {
    provider = readProviderFile(ref);
  } else {
    throw mailkeepError('INVALID_INPUT', `unknown OAuth provider "${ref.slice(0, 80)}": use google, microsoft or the path of a provider JSON file`);
  }
  if (!provider.clientId) {
    throw mailkeepError(
      'OAUTH_NOT_CONFIGURED',
      `${provider.name} sign-in has no client ID: put one in ${path.join(src.dataDir, PROVIDERS_FILE)} or MAILKEEP_OAUTH_${(provider.id ?? 'X').toUpperCase()}_CLIENT_ID (docs/oauth.md)`,
      { provider: provider.id ?? provider.name },
    );
  }
  return { ...provider, id: provider.id ?? slug(provider.name), clientId: provider.clientId };
}

/** Keeps a custom provider next to the accounts that use it (built-ins need nothing). */
export function rememberProvider(provider: ConfiguredProvider, dataDir: string): void {
  if (provider.id === 'google' || provider.id === 'microsoft') return;
  const dir = path.join(dataDir, CUSTOM_PROVIDERS_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(path.join(dir, `${provider.id}.json`), JSON.stringify(provider, null, 2), 0o600);
}

function readProviderFile(file: string): OAuthProvider {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw mailkeepError('INVALID_INPUT', `cannot read the OAuth provider file ${file}: ${(err as Error).message.slice(0, RELAY_LIMITS.logDetailMaxChars)}`);
  }
  const parsed = OAuthProvider.safeParse(raw);
  if (!parsed.success) {
    // Paths and messages only: a provider file may hold a client secret.
    throw mailkeepError('INVALID_INPUT', `the OAuth provider file ${file} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ').slice(0, 500)}`);
  }
  return parsed.data;
}

function readClientConfig(dataDir: string): z.infer<typeof ClientConfig> {
  const file = path.join(dataDir, PROVIDERS_FILE);
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw mailkeepError('INVALID_INPUT', `${file} is not JSON`);
  }
  const parsed = ClientConfig.safeParse(json);
  if (!parsed.success) throw mailkeepError('INVALID_INPUT', `${file} must map provider ids to {"clientId", "clientSecret"}`);
  return parsed.data;
}

function slug(name: string): string {
  return (
    'custom-' +
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50)
  ).replace(/-$/, '');
}
