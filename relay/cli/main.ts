import { runServerCommand } from '../server/commands.ts';
import { UsageError } from './args.ts';
import { archiveInfoCommand, BACKUP_HELP, backupCommand, INFO_HELP, VERIFY_HELP, verifyCommand, type Io } from './commands.ts';
import { EXIT, EXIT_HELP } from './exit-codes.ts';
import { EXPORT_HELP, exportCommand } from './export-command.ts';
import { MIGRATE_HELP, migrateCommand } from './migrate-command.ts';
import { REPAIR_HELP, repairCommand } from './repair-command.ts';
import { RESTORE_HELP, restoreCommand } from './restore-command.ts';
import { ACCOUNT_BACKUP_HELP, ACCOUNT_HELP, SCHEDULE_HELP, STATUS_HELP } from './state-help.ts';

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
  relay         run the extension's local companion (prints a pairing code)
  pair          print a fresh pairing code for a running relay

Run "mailkeep <command> --help" for a command's options.

${EXIT_HELP}`;

const COMMANDS: Record<string, { help: string; run: (argv: string[], io: Io) => Promise<number> }> = {
  backup: {
    help: `${BACKUP_HELP}\n\n${ACCOUNT_BACKUP_HELP}`,
    // --account: a stored account of the relay's data dir; else the self-contained --archive form.
    run: async (argv, io) => (argv.some((a) => a === '--account' || a.startsWith('--account=')) ? (await import('./account-backup.ts')).accountBackupCommand(argv, io) : backupCommand(argv, io)),
  },
  account: { help: ACCOUNT_HELP, run: async (argv, io) => (await import('./account-command.ts')).accountCommand(argv, io) },
  schedule: { help: SCHEDULE_HELP, run: async (argv, io) => (await import('./schedule-command.ts')).scheduleCommand(argv, io) },
  status: { help: STATUS_HELP, run: async (argv, io) => (await import('./status-command.ts')).statusCommand(argv, io) },
  restore: { help: RESTORE_HELP, run: restoreCommand },
  migrate: { help: MIGRATE_HELP, run: migrateCommand },
  export: { help: EXPORT_HELP, run: exportCommand },
  verify: { help: VERIFY_HELP, run: verifyCommand },
  'archive-info': { help: INFO_HELP, run: archiveInfoCommand },
  repair: { help: REPAIR_HELP, run: repairCommand },
};

/** Entry point used by bin/mailkeep.js; returns the exit code. */
export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const controller = new AbortController();
  const full: Io = { out: process.stdout, err: process.stderr, env: process.env, signal: controller.signal, ...io };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.out.write(`${MAIN_HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const served = runServerCommand(argv); // relay, pair: relay/server owns them and their signals
  if (served) return await served;
  const cmd = COMMANDS[name];
  if (!cmd) {
    full.err.write(`error INVALID_INPUT: unknown command "${name}" (try mailkeep --help)\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    full.out.write(`${cmd.help}\n`);
    return EXIT.ok;
  }
  // Ctrl-C: stop cleanly (commit what was received, release the lock); a second one kills.
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    return await cmd.run(rest, full);
  } catch (err) {
    if (err instanceof UsageError) {
      full.err.write(`error INVALID_INPUT: ${err.message} (try mailkeep ${name} --help)\n`);
      return EXIT.usage;
    }
    full.err.write(`error UNKNOWN: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
