import type { Security } from '../storage/rows.ts';

export interface ServerPreset {
  provider: string;
  host: string;
  port: number;
  security: Security;
}

const GMAIL: ServerPreset = { provider: 'Gmail', host: 'imap.gmail.com', port: 993, security: 'tls' };
const OUTLOOK: ServerPreset = { provider: 'Outlook.com', host: 'outlook.office365.com', port: 993, security: 'tls' };
const YAHOO: ServerPreset = { provider: 'Yahoo', host: 'imap.mail.yahoo.com', port: 993, security: 'tls' };
const ICLOUD: ServerPreset = { provider: 'iCloud', host: 'imap.mail.me.com', port: 993, security: 'tls' };
const FASTMAIL: ServerPreset = { provider: 'Fastmail', host: 'imap.fastmail.com', port: 993, security: 'tls' };

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
  'icloud.com': ICLOUD,
  'me.com': ICLOUD,
  'mac.com': ICLOUD,
  'fastmail.com': FASTMAIL,
  'fastmail.fm': FASTMAIL,
};

export function presetFor(email: string): ServerPreset | null {
  const domain = email.trim().toLowerCase().split('@')[1];
  return (domain && BY_DOMAIN[domain]) || null;
}
