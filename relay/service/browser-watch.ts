import { readInstallRecord, writeInstallRecord, type Command } from './install-record.ts';
import { installedBrowsers } from './browsers.ts';
import { hostRegistration } from './install-plan.ts';
import { mergeBy, showCommand, writePlannedFiles } from './install.ts';
import type { ServiceEnv } from './platform.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

export interface BrowserWatchOptions {
  se: ServiceEnv;
  dataDir: string;
  run: (c: Command) => { ok: boolean; output: string };
  log: (line: string) => void;
  exists?: (dir: string) => boolean;
  /** Writes the manifests (tests of the Windows plan on Linux record them instead). */
  writeFiles?: typeof writePlannedFiles;
}

/**
 * A browser installed or first started after `mailkeep install` (no profile then, so no host
 * manifest) gets the native-messaging host from the running relay, and the install record learns
 * it so `mailkeep uninstall` removes it too. Only where Mailkeep was installed as a service (an
 * install record in this data dir): a relay run by hand registers nothing. Returns the browsers
 * registered now (by name).
 */
export function registerNewBrowsers(opts: BrowserWatchOptions): string[] {
  const record = readInstallRecord(opts.dataDir);
  if (!record || record.dataDir !== opts.dataDir) return [];
  const known = new Set(record.browsers);
  const fresh = installedBrowsers(opts.se, opts.exists).filter((b) => !known.has(b.name));
  if (fresh.length === 0) return [];
  const host = hostRegistration(opts.se, opts.dataDir, fresh);
  const created: string[] = [];
  const files = (opts.writeFiles ?? writePlannedFiles)(opts.dataDir, host.files, created, opts.log);
  const registered = new Set(fresh.map((b) => b.name));
  for (const c of host.register) {
    const r = opts.run(c);
    if (!r.ok) {
      // Not recorded as registered: the next look tries again.
      opts.log(`could not register the native-messaging host: ${showCommand(c)} failed${r.output ? ` (${r.output.slice(0, RELAY_LIMITS.logDetailMaxChars)})` : ''}`);
      for (const b of fresh) if (b.registryKey && c.includes(b.registryKey)) registered.delete(b.name);
    }
  }
  writeInstallRecord(opts.dataDir, {
    ...record,
    files: mergeBy(record.files, files, (f) => f.path),
    dirs: [...new Set([...record.dirs, ...created])],
    registryKeys: [...new Set([...record.registryKeys, ...host.registryKeys])],
    service: { ...record.service, unregister: [...record.service.unregister, ...host.unregister.filter((u) => !record.service.unregister.some((o) => o.join('\0') === u.join('\0')))] },
    browsers: [...record.browsers, ...[...registered]],
  });
  const names = [...registered];
  if (names.length > 0) opts.log(`native-messaging host registered for a browser found since install: ${names.join(', ')}`);
  return names;
}
