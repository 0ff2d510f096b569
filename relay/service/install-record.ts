import fs from 'node:fs';
import path from 'node:path';
import { z } from '../../lib/zod.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.ts';

/**
 * What `mailkeep install` wrote, kept in the data dir, so that `mailkeep uninstall` removes exactly
 * that and nothing else, and the native host knows how the relay is meant to be started.
 */
export const INSTALL_RECORD_FILE = 'install.json';

export const ServiceKind = z.enum(['systemd', 'xdg-autostart', 'launchd', 'windows-task']);
export type ServiceKind = z.infer<typeof ServiceKind>;

/** A program and its arguments, run without a shell. */
export const Command = z.array(z.string()).min(1);
export type Command = z.infer<typeof Command>;

export const InstallRecord = z.strictObject({
  version: z.literal(1),
  installedAt: z.string(),
  platform: z.enum(['linux', 'darwin', 'win32']),
  dataDir: z.string(),
  port: z.number().int().min(0).max(65535),
  service: z.strictObject({
    kind: ServiceKind,
    /** Starts the registered service now (the native host uses it when the relay is down). */
    start: z.array(Command),
    /** Stops and unregisters it (uninstall), run before the files go. */
    unregister: z.array(Command),
  }),
  /** Files written, with the SHA-256 of what was written (uninstall says when one was edited since). */
  files: z.array(z.strictObject({ path: z.string(), sha256: z.string().length(64) })),
  /** Directories install created, outermost first; uninstall removes them deepest first, if empty. */
  dirs: z.array(z.string()),
  /** Windows registry keys created (HKCU\...), removed by uninstall. */
  registryKeys: z.array(z.string()),
  /** Browsers whose native-messaging host was registered, for the printout. */
  browsers: z.array(z.string()),
});
export type InstallRecord = z.infer<typeof InstallRecord>;

export function readInstallRecord(dataDir: string): InstallRecord | undefined {
  const file = path.join(dataDir, INSTALL_RECORD_FILE);
  const raw = readFileIfExists(file);
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = InstallRecord.safeParse(json);
  if (!parsed.success) throw mailkeepError('INVALID_INPUT', `${file} is not an install record Mailkeep wrote; nothing was changed`);
  return parsed.data;
}

export function writeInstallRecord(dataDir: string, record: InstallRecord): void {
  writeFileAtomic(path.join(dataDir, INSTALL_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

export function removeInstallRecord(dataDir: string): void {
  fs.rmSync(path.join(dataDir, INSTALL_RECORD_FILE), { force: true });
}
