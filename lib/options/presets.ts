import type { Security } from '../storage/rows.ts';

/** The built-in OAuth2 providers of the relay (docs/oauth.md). */
export type OAuthProviderId = 'google' | 'microsoft';

/** How a provider wants its password: an app password (steps and the page to make one). */
export interface AppPasswordAdvice {
  /** What to do, in order, in the provider's own words where it has them. */
  steps: readonly string[];
  /** The provider's page to create one (shown as text the user can open). */
  url: string;
}

export interface ServerPreset {
  provider: string;
  host: string;
  port: number;
  security: Security;
  /** The relay can sign in with this provider instead of a password. */
  oauth?: OAuthProviderId;
  /** false: no password works at all (Outlook.com since 16 September 2024): only sign-in. */
  passwordWorks: boolean;
  /** The password field takes an app password, not the account's own password. */
  appPassword?: AppPasswordAdvice;
}

const GMAIL: ServerPreset = {
  provider: 'Gmail', host: 'imap.gmail.com', port: 993, security: 'tls', oauth: 'google', passwordWorks: true,
  appPassword: {
    steps: [
      'Gmail does not accept your Google password here: it needs an app password (or Sign in with Google).',
      'Turn on 2-Step Verification for your Google account (an app password needs it).',
      'Open the app passwords page, name it "Mailkeep", create it, and paste the 16 letters here.',
      'Accounts with Advanced Protection, security keys only, or a Workspace admin who turned app passwords off cannot make one: use Sign in with Google.',
    ],
    url: 'https://myaccount.google.com/apppasswords',
  },
};
const OUTLOOK: ServerPreset = { provider: 'Outlook.com', host: 'outlook.office365.com', port: 993, security: 'tls', oauth: 'microsoft', passwordWorks: false };
const YAHOO: ServerPreset = {
  provider: 'Yahoo', host: 'imap.mail.yahoo.com', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'Yahoo does not accept your account password here: it needs an app password.',
      'Open Account security, choose "Generate app password" (or "Manage app passwords"), name it "Mailkeep", and paste the password here.',
    ],
    url: 'https://login.yahoo.com/account/security',
  },
};
const AOL: ServerPreset = {
  provider: 'AOL', host: 'imap.aol.com', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'AOL does not accept your account password here: it needs an app password.',
      'Open Account security, choose "Generate app password", name it "Mailkeep", and paste the password here.',
    ],
    url: 'https://login.aol.com/account/security',
  },
};
const ICLOUD: ServerPreset = {
  provider: 'iCloud', host: 'imap.mail.me.com', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'iCloud Mail does not accept your Apple Account password here: it needs an app-specific password.',
      'Sign in at account.apple.com, open Sign-In and Security > App-Specific Passwords, create one named "Mailkeep", and paste it here.',
      'The user name is your iCloud address (name@icloud.com).',
    ],
    url: 'https://account.apple.com/account/manage',
  },
};
const FASTMAIL: ServerPreset = {
  provider: 'Fastmail', host: 'imap.fastmail.com', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'Fastmail does not accept your account password here: it needs an app password.',
      'Open Settings > Privacy & Security > Manage app passwords and access, choose "New app password", allow "Mail (IMAP/POP/SMTP)", and paste it here.',
    ],
    url: 'https://app.fastmail.com/settings/security/devicekeys',
  },
};
const GMX: ServerPreset = {
  provider: 'GMX', host: 'imap.gmx.net', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'GMX refuses IMAP until it is switched on for your mailbox.',
      'In GMX webmail open Settings (E-Mail-Einstellungen) > POP3 & IMAP, tick "Enable access to this account via POP3 and IMAP", and save.',
      'With two-factor authentication on, create an application-specific password in the security settings and use it here.',
    ],
    url: 'https://www.gmx.net/mail/pop3-imap/',
  },
};
const WEBDE: ServerPreset = {
  provider: 'WEB.DE', host: 'imap.web.de', port: 993, security: 'tls', passwordWorks: true,
  appPassword: {
    steps: [
      'WEB.DE refuses IMAP until it is switched on for your mailbox.',
      'In WEB.DE webmail open Einstellungen > POP3/IMAP Abruf, tick "POP3 und IMAP Zugriff erlauben", and save.',
      'With two-factor authentication on, create an application-specific password in the security settings and use it here.',
    ],
    url: 'https://web.de/email/pop3-imap/',
  },
};

/** IMAP settings of the big providers, by the domain of the address (their published settings). */
const BY_DOMAIN: Readonly<Record<string, ServerPreset>> = {
  'gmail.com': GMAIL,
  'googlemail.com': GMAIL,
  'outlook.com': OUTLOOK,
  'hotmail.com': OUTLOOK,
  'live.com': OUTLOOK,
  'msn.com': OUTLOOK,
  'yahoo.com': YAHOO,
  'ymail.com': YAHOO,
  'aol.com': AOL,
  'icloud.com': ICLOUD,
  'me.com': ICLOUD,
  'mac.com': ICLOUD,
  'fastmail.com': FASTMAIL,
  'fastmail.fm': FASTMAIL,
  'gmx.net': GMX,
  'gmx.de': GMX,
  'gmx.at': GMX,
  'gmx.ch': GMX,
  'web.de': WEBDE,
};

function domainOf(email: string): string | undefined {
  const parts = email.trim().toLowerCase().split('@');
  return parts.length === 2 && parts[0] ? parts[1] : undefined;
}

export function presetFor(email: string): ServerPreset | null {
  const domain = domainOf(email);
  return (domain && BY_DOMAIN[domain]) || null;
}

/**
 * "This address is at Google Workspace / Microsoft 365", or the id of a custom provider set up on
 * the relay (`<data dir>/oauth-providers/<id>.json`, docs/oauth.md): a custom domain the user says
 * signs in there. null: an IMAP server with a password.
 */
export type HostedAt = string | null;

const BUILT_IN_NAMES: Readonly<Record<string, string>> = { google: 'Google', microsoft: 'Microsoft' };

/** The name a provider goes by on the page: Google, Microsoft, or a custom provider's id. */
export function providerName(provider: string): string {
  return BUILT_IN_NAMES[provider] ?? provider;
}

/** The words a provider's sign-in button carries. */
export function signInLabel(provider: string): string {
  return `Sign in with ${providerName(provider)}`;
}

/** Why no password field is offered for Outlook.com (said next to the Sign in button). */
export const NO_PASSWORD_OUTLOOK =
  'Outlook.com, Hotmail, Live and MSN stopped accepting passwords for IMAP on 16 September 2024, and no app password works there either: use Sign in with Microsoft.';

export interface SignInChoice {
  /** The provider whose Sign in button the form offers (built-in or custom id); null: password only. */
  oauth: string | null;
  /** Whether the password field is shown at all. */
  passwordField: boolean;
  /** Said next to the password field (app password steps), when the provider needs one. */
  appPassword: AppPasswordAdvice | null;
  /** Why there is no password field, when there is none. */
  noPasswordReason: string | null;
}

/**
 * What the account form offers for an address: Sign in with Google/Microsoft for their domains (and
 * for a custom domain the user says is hosted there), never a password field for Outlook.com, and
 * the app password steps next to the field for providers that need one.
 */
export function signInChoiceFor(email: string, hostedAt: HostedAt = null): SignInChoice {
  const preset = presetFor(email);
  if (preset) {
    return {
      oauth: preset.oauth ?? null,
      passwordField: preset.passwordWorks,
      appPassword: preset.appPassword ?? null,
      noPasswordReason: preset.passwordWorks ? null : NO_PASSWORD_OUTLOOK,
    };
  }
  // A custom domain at Microsoft 365: work accounts may still allow passwords only where an
  // admin kept basic authentication, which Microsoft retired for Exchange Online; sign in instead.
  if (hostedAt === 'microsoft') {
    return { oauth: 'microsoft', passwordField: false, appPassword: null, noPasswordReason: 'Microsoft 365 no longer accepts passwords for IMAP (basic authentication was retired): use Sign in with Microsoft.' };
  }
  if (hostedAt && hostedAt !== 'google') return { oauth: hostedAt, passwordField: false, appPassword: null, noPasswordReason: null };
  if (hostedAt === 'google') return { oauth: 'google', passwordField: true, appPassword: GMAIL.appPassword ?? null, noPasswordReason: null };
  return { oauth: null, passwordField: true, appPassword: null, noPasswordReason: null };
}

/** IMAP servers of providers that need app passwords, for addresses on a custom domain. */
function presetByHost(host: string): ServerPreset | null {
  const h = host.trim().toLowerCase();
  return Object.values(BY_DOMAIN).find((p) => p.host === h) ?? null;
}

/**
 * The refusal texts of the providers that need app passwords or IMAP switched on (what their
 * servers answer to LOGIN with the account's own password). Matched case-insensitively against
 * the relay's message of a failed Test connection.
 */
const REFUSALS: readonly RegExp[] = [
  /application-specific password required/i, // Gmail: "[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"
  /\[ALERT\] Please log in via your web browser/i, // Gmail: "[ALERT] Please log in via your web browser: ... (Failure)"
  /web login required/i, // Gmail (older): "[WEBALERT ...] Web login required"
  /\[AUTHENTICATIONFAILED\]/i, // Yahoo, AOL, Gmail ("Invalid credentials (Failure)"), Fastmail, iCloud
  /invalid credentials/i,
  /authentication failed/i, // iCloud "AUTHENTICATIONFAILED Authentication failed.", GMX/WEB.DE "authentication failed"
  /LOGIN failed/i, // Outlook.com "LOGIN failed." / "AUTHENTICATE failed."
  /AUTHENTICATE failed/i,
  /IMAP (access )?(is )?(disabled|not enabled)/i, // GMX/WEB.DE with IMAP switched off, Gmail "IMAP access is disabled"
  /\[ALERT\] Your account is not enabled for IMAP use/i, // Gmail: "Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access."
];

/**
 * Test connection's advice when a provider that needs an app password (or IMAP switched on) refused
 * the login: the steps and the page, in place of a bare "authentication failed". The relay passes
 * the server's text (imapflow moves a `[CODE]` out of it, so the texts match without it too); a
 * refusal it classified AUTH_FAILED counts whatever the text. Null when the server is not one of
 * those providers or the refusal is something else (a network problem keeps its hint).
 */
export function refusalAdvice(email: string, host: string, message: string, errorCode?: string): string | null {
  const preset = presetFor(email) ?? presetByHost(host);
  if (!preset || (errorCode !== 'AUTH_FAILED' && !REFUSALS.some((r) => r.test(message)))) return null;
  if (!preset.passwordWorks) return NO_PASSWORD_OUTLOOK;
  if (!preset.appPassword) return null;
  return `${preset.provider} refused the password. ${preset.appPassword.steps.join(' ')} Create one at ${preset.appPassword.url}`;
}
