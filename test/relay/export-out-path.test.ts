import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runDownload } from '../../relay/jobs/download/run-download.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli } from '../support/run-cli.ts';

const PW = 'out-Secret-pw';
const MESSAGES = 60;

/** Every file under `dir` (relative name -> SHA-256): what "the archive is unchanged" means, byte for byte. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    // SQLite's shared-memory file and an empty WAL are what any reader's open leaves beside the
    // index (verify runs between the cases); they hold no archived data.
    if (e.name.endsWith('-shm') || (e.name.endsWith('-wal') && fs.statSync(full).size === 0)) continue;
    out[path.relative(dir, full)] = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return out;
}

describe.skipIf(!dovecotAvailable())('export never destroys anything: where --out may point', () => {
  let dc: Dovecot;
  let work: string;
  let archive: string;
  let pack: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ name: 'olga', password: PW }] });
    const c = await dc.client('olga', PW);
    await c.mailboxCreate('Archiv');
    for (const [i, m] of generatedMessages(MESSAGES, 5, { prefix: 'out' }).entries()) await c.append(i % 2 ? 'Archiv' : 'INBOX', m, ['\\Seen'], new Date(Date.UTC(2021, 0, 1, 0, i)));
    await c.logout();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-out-path-'));
    archive = path.join(work, 'archive');
    const b = await runBackup({ archiveDir: archive, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'olga', password: PW } });
    expect(b.status).toBe('completed');
    const packs = fs.readdirSync(path.join(archive, 'packs')).filter((f) => fs.statSync(path.join(archive, 'packs', f)).size > 0);
    expect(packs.length).toBeGreaterThan(0);
    pack = path.join(archive, 'packs', packs[0]!);
    before = snapshot(archive);
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const exportTo = (out: string, ...extra: string[]) => runCli(['export', '--archive', archive, '--format', 'mbox', '--out', out, ...extra, '--json']);

  /** The refusal is a stable code and exit 6; not a byte of the archive changed, and verify still passes. */
  async function expectRefused(out: string, code: string, extra: string[] = []): Promise<void> {
    const r = await exportTo(out, ...extra);
    expect(r.code, r.stdout + r.stderr).toBe(6);
    expect(r.json).toMatchObject({ statusId: 'failed', errorCode: code });
    expect(r.stderr).toContain(`error ${code}:`);
    expect(snapshot(archive)).toEqual(before);
    const v = await runCli(['verify', '--archive', archive, '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.json).toMatchObject({ ok: true, messages: MESSAGES });
  }

  it('refuses --out that is the archive\'s own pack file, leaving every message intact', async () => {
    await expectRefused(pack, 'OUTPUT_INSIDE_ARCHIVE');
  });

  it('refuses --out that is the archive index (index.sqlite), even with --force', async () => {
    await expectRefused(path.join(archive, 'index.sqlite'), 'OUTPUT_INSIDE_ARCHIVE');
    await expectRefused(path.join(archive, 'index.sqlite'), 'OUTPUT_INSIDE_ARCHIVE', ['--force']);
  });

  it('refuses a new file anywhere inside the archive directory, and creates nothing there', async () => {
    await expectRefused(path.join(archive, 'export.zip'), 'OUTPUT_INSIDE_ARCHIVE');
    await expectRefused(path.join(archive, 'packs', 'new.zip'), 'OUTPUT_INSIDE_ARCHIVE');
    await expectRefused(archive, 'OUTPUT_INSIDE_ARCHIVE');
  });

  it('refuses a symlink outside that points into the archive, at a pack or at a file not there yet', async () => {
    const toPack = path.join(work, 'looks-harmless.zip');
    fs.symlinkSync(pack, toPack);
    await expectRefused(toPack, 'OUTPUT_INSIDE_ARCHIVE', ['--force']);
    const dangling = path.join(work, 'dangling.zip');
    fs.symlinkSync(path.join(archive, 'packs', 'later.zip'), dangling);
    await expectRefused(dangling, 'OUTPUT_INSIDE_ARCHIVE', ['--force']);
    // A directory link into the archive: the file (and its temporary file) would land inside.
    const dirLink = path.join(work, 'shortcut');
    fs.symlinkSync(path.join(archive, 'packs'), dirLink);
    await expectRefused(path.join(dirLink, 'mail.zip'), 'OUTPUT_INSIDE_ARCHIVE');
  });

  it('refuses paths that reach the archive through ".." (archive/../archive/x, a relative path)', async () => {
    await expectRefused(`${archive}/../archive/x.zip`, 'OUTPUT_INSIDE_ARCHIVE');
    await expectRefused(`${work}/elsewhere/../archive/packs/${path.basename(pack)}`, 'OUTPUT_INSIDE_ARCHIVE', ['--force']);
    await expectRefused(path.relative(process.cwd(), path.join(archive, 'rel.zip')), 'OUTPUT_INSIDE_ARCHIVE');
  });

  it('refuses a directory as --out with a clear error, and writes nothing into it', async () => {
    const dir = path.join(work, 'exports');
    fs.mkdirSync(dir);
    await expectRefused(dir, 'OUTPUT_IS_DIRECTORY');
    await expectRefused(`${dir}/`, 'OUTPUT_IS_DIRECTORY', ['--force']);
    await expectRefused(path.join(work, 'not-yet-there') + '/', 'OUTPUT_IS_DIRECTORY');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect((await exportTo(dir)).stderr).toMatch(/is a directory; give the name of the file to write/);
  });

  it('keeps an existing file byte for byte unless --force, and with --force replaces it with the export', async () => {
    const out = path.join(work, 'mine.zip');
    const precious = Buffer.from('a file the user cares about\n');
    fs.writeFileSync(out, precious);
    await expectRefused(out, 'OUTPUT_EXISTS');
    expect(fs.readFileSync(out)).toEqual(precious);
    expect(fs.readdirSync(work).filter((f) => f.includes('.partial'))).toEqual([]);
    const forced = await exportTo(out, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json).toMatchObject({ statusId: 'completed_link', messages: MESSAGES });
    expect(fs.readFileSync(out).subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04])); // a zip now
    expect(snapshot(archive)).toEqual(before);
  });

  it('writes a new file outside the archive as before (the guard refuses only what it must)', async () => {
    const out = path.join(work, 'fresh.mbox.zip');
    const r = await exportTo(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ statusId: 'completed_link', messages: MESSAGES });
    expect(fs.statSync(out).size).toBe(r.json!.fileBytes);
    // The name next to the archive that merely starts the same is outside it.
    const sibling = path.join(work, 'archive-copy.zip');
    expect((await exportTo(sibling)).code).toBe(0);
  });

  it('the relay\'s download job (runDownload, force never set) refuses the archive and an existing file alike', async () => {
    const inside = await runDownload({ archiveDir: archive, format: 'eml-zip', out: pack });
    expect(inside).toMatchObject({ status: 'failed', errorCode: 'OUTPUT_INSIDE_ARCHIVE', attempts: 1 });
    const existing = path.join(work, 'job-file.zip');
    fs.writeFileSync(existing, 'keep');
    const again = await runDownload({ archiveDir: archive, format: 'eml-zip', out: existing });
    expect(again).toMatchObject({ status: 'failed', errorCode: 'OUTPUT_EXISTS' });
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep');
    expect(snapshot(archive)).toEqual(before);
  });
});
