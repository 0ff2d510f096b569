import { UsageError } from './args.ts';

/** The environment variable `mailkeep account add|edit` reads a password from (never a flag: argv shows in `ps`). */
export const PASSWORD_ENV = 'MAILKEEP_PASSWORD';

/**
 * The account's password: from $MAILKEEP_PASSWORD, else typed at a prompt that echoes nothing
 * (only when stdin is a terminal). Never printed, never in an error message.
 */
export async function readPassword(io: { env: NodeJS.ProcessEnv; err: NodeJS.WriteStream }, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const fromEnv = io.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!stdin.isTTY) throw new UsageError(`no password: set ${PASSWORD_ENV}, or run in a terminal to be asked for it`);
  io.err.write('Password (not shown): ');
  const typed = await readHidden(stdin);
  io.err.write('\n');
  if (typed === '') throw new UsageError('no password typed');
  return typed;
}

/** Raw mode: keys are read one by one and nothing is echoed; Enter ends, Ctrl-C aborts, Backspace erases. */
function readHidden(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
