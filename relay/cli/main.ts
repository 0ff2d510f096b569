import type { Io } from './commands.ts';
import { EXIT, EXIT_HELP } from '../server/exit-codes.ts';
import { processIo, runCommand, type Command } from './run-command.ts';

const MAIN_HELP = `Usage: mailkeep <command> [options]

Commands:
  account       add, edit, remove or list the accounts the relay backs up by itself
  schedule      when an account backs up by itself: every 6h, daily 02:00 or off
  status        every account's status, last backup, next run and archive size (exit 0: all Completed)
  backup        back up an IMAP account into an archive (incremental, read-only, resumable);
                --account ACCOUNT backs up a stored account (through the relay when it runs)
  restore       put archived mail back into an IMAP account (never duplicates; --dry-run plans)
  migrate       copy every folder of one IMAP account into another (never duplicates; --dry-run plans)
  export        write archived mail to a zip of mbox files or .eml files (streamed, zip64)
  verify        check the index, the journal and every stored message against each other
  archive-info  accounts, folders, message counts and runs of an archive
  repair        rebuild a lost or damaged archive index from the journal and packs
  search        find archived messages: words, from:, subject:, has:attachment, before: ...
  show          show one archived message (or --raw: its bytes, for a .eml file)
  reindex       rebuild the archive's search index
  relay         run the extension's local companion (prints a pairing code)
  pair          print a fresh pairing code for a running relay
  install       start the relay at login and register the browser's native-messaging host
  uninstall     remove what install wrote (--purge --yes also deletes the data dir)
  stop          stop the running relay (jobs checkpoint; it starts again at login or when needed)
  native-host   the native-messaging host the browser starts (not for people)

Run "mailkeep <command> --help" for a command's options.

${EXIT_HELP}`;

/**
 * Each command's module is loaded when that command runs (issue 11 item 5): `--help` and a
 * mistyped command load no IMAP, SQLite or server code, and `backup` none of restore's,
 * migrate's or the relay server's. The bundle keeps these imports lazy too.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  restore: async () => ({ help: (await import('./restore-command.ts')).RESTORE_HELP, run: (await import('./restore-command.ts')).restoreCommand }),
  migrate: async () => ({ help: (await import('./migrate-command.ts')).MIGRATE_HELP, run: (await import('./migrate-command.ts')).migrateCommand }),
  export: async () => ({ help: (await import('./export-command.ts')).EXPORT_HELP, run: (await import('./export-command.ts')).exportCommand }),
  verify: async () => ({ help: (await import('./commands.ts')).VERIFY_HELP, run: (await import('./commands.ts')).verifyCommand }),
  'archive-info': async () => ({ help: (await import('./commands.ts')).INFO_HELP, run: (await import('./commands.ts')).archiveInfoCommand }),
  repair: async () => ({ help: (await import('./repair-command.ts')).REPAIR_HELP, run: (await import('./repair-command.ts')).repairCommand }),
  search: async () => ({ help: (await import('./search-command.ts')).SEARCH_HELP, run: (await import('./search-command.ts')).searchCommand }),
  show: async () => ({ help: (await import('./show-command.ts')).SHOW_HELP, run: (await import('./show-command.ts')).showCommand }),
  reindex: async () => ({ help: (await import('./reindex-command.ts')).REINDEX_HELP, run: (await import('./reindex-command.ts')).reindexCommand }),
  backup: async () => {
    const c = await import('./commands.ts');
    const { ACCOUNT_BACKUP_HELP } = await import('./state-help.ts');
    return {
      help: `${c.BACKUP_HELP}\n\n${ACCOUNT_BACKUP_HELP}`,
      // --account: a stored account of the relay's data dir; else the self-contained --archive form.
      run: async (argv, io) => (argv.some((a) => a === '--account' || a.startsWith('--account=')) ? (await import('./account-backup.ts')).accountBackupCommand(argv, io) : c.backupCommand(argv, io)),
    };
  },
  account: async () => ({ help: (await import('./state-help.ts')).ACCOUNT_HELP, run: async (argv, io) => (await import('./account-command.ts')).accountCommand(argv, io) }),
  schedule: async () => ({ help: (await import('./state-help.ts')).SCHEDULE_HELP, run: async (argv, io) => (await import('./schedule-command.ts')).scheduleCommand(argv, io) }),
  status: async () => ({ help: (await import('./state-help.ts')).STATUS_HELP, run: async (argv, io) => (await import('./status-command.ts')).statusCommand(argv, io) }),
  install: async () => ({ help: (await import('./install-command.ts')).INSTALL_HELP, run: (await import('./install-command.ts')).installCommand }),
  uninstall: async () => ({ help: (await import('./install-command.ts')).UNINSTALL_HELP, run: (await import('./install-command.ts')).uninstallCommand }),
  stop: async () => ({ help: (await import('./install-command.ts')).STOP_HELP, run: (await import('./install-command.ts')).stopCommand }),
  'native-host': async () => ({ help: (await import('./native-host-command.ts')).NATIVE_HOST_HELP, run: (await import('./native-host-command.ts')).nativeHostCommand }),
};

/** Entry point used by bin/mailkeep.js; returns the exit code. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'relay' || name === 'pair') return await (await import('../server/commands.ts')).runServerCommand(argv)!; // relay/server owns them, their signals and their streams
  const { io: full, controller } = processIo(io);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.out.write(`${MAIN_HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    full.err.write(`error INVALID_INPUT: unknown command "${name}" (try mailkeep --help)\n`);
    return EXIT.usage;
  }
  return await runCommand(name, await load(), rest, full, controller);
}
