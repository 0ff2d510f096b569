import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import { testImapConnection } from '../../relay/server/test-connection.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli } from '../support/run-cli.ts';
import { readLocalToken } from '../../relay/state/local-token.ts';
import { helloClient, RelayProcess, tempDataDir } from './relay-harness.ts';

// A self-hosted server (Dovecot, a NAS) with a self-signed certificate, backed up by the real
// `mailkeep relay` process: the account carries the certificate (account add|edit --ca FILE), and
// without it the failure names the certificate, not the security setting or the port.

const ALICE = { name: 'alice', password: 'alice-Ca-pw-7319' };

if (process.env.CI && !dovecotAvailable()) throw new Error('Dovecot is required in CI (scripts/install-imap-servers.sh)');

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, env, { deadlineMs: 90_000 });

describe.skipIf(!dovecotAvailable())('an account with a self-signed certificate (real relay process and Dovecot over TLS)', () => {
  let dc: Dovecot;
  let dataDir: string;
  let tmp: string;
  let relay: RelayProcess | undefined;

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE] });
    const imap = await dc.client(ALICE.name, ALICE.password);
    for (const raw of generatedMessages(3, 77)) await imap.append('INBOX', raw, []);
    await imap.logout();
    dataDir = tempDataDir();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-ca-'));
    relay = await RelayProcess.start(dataDir, 20_000);
  });

  afterAll(async () => {
    await relay?.stop();
    await dc?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('without --ca the backup ends Connection Error naming the untrusted certificate and the command that fixes it, in the output and in relay.log; with --ca it completes, after the file is gone', async () => {
    const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.tlsPort), '--security', 'tls', '--user', ALICE.name, '--schedule', 'off', '--data-dir', dataDir], { MAILKEEP_PASSWORD: ALICE.password });
    expect(add.code, add.stderr).toBe(0);

    const bad = await cli(['backup', '--account', ALICE.name, '--data-dir', dataDir]);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toContain('Connection Error');
    expect(bad.stdout).toContain('(TLS_CERT_UNTRUSTED)');
    expect(bad.stdout).toContain('not signed by an authority this computer trusts');
    expect(bad.stdout).toContain('mailkeep account edit alice --ca FILE');
    expect(bad.stdout).not.toContain('Check the security setting');
    const log = fs.readFileSync(path.join(dataDir, 'relay.log'), 'utf8');
    expect(log).toMatch(/backup job \S+ of account alice: connection_error \(TLS_CERT_UNTRUSTED: /);
    expect(log + bad.stdout + bad.stderr).not.toContain(ALICE.password);

    // The certificate text is stored with the account: the file may go away afterwards.
    const caFile = path.join(tmp, 'nas-cert.pem');
    fs.copyFileSync(dc.certFile, caFile);
    const edit = await cli(['account', 'edit', ALICE.name, '--ca', caFile, '--data-dir', dataDir]);
    expect(edit.code, edit.stderr).toBe(0);
    fs.rmSync(caFile);

    // The extension's account form knows nothing of certificates: saving it (here: a new name, the
    // fields lib/background/coordinator.ts imapAccountOf sends) keeps the stored one.
    const ws = await helloClient(relay!.port, readLocalToken(dataDir)!);
    const saved = (await ws.call('x1', 'account.upsert', { account: { id: 'alice', host: '127.0.0.1', port: dc.tlsPort, security: 'tls', user: ALICE.name, name: 'My NAS' } })) as { type: string };
    ws.close();
    expect(saved.type).toBe('result');
    expect((await cli(['account', 'list', '--data-dir', dataDir])).stdout).toContain('My NAS');

    const ok = await cli(['backup', '--account', ALICE.name, '--json', '--data-dir', dataDir]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1)!)).toMatchObject({ via: 'relay', status: 'Completed', messages: 3 });

    // --no-ca forgets it: the next run names the certificate again.
    expect((await cli(['account', 'edit', ALICE.name, '--no-ca', '--data-dir', dataDir])).code).toBe(0);
    const again = await cli(['backup', '--account', ALICE.name, '--data-dir', dataDir]);
    expect(again.stdout).toContain('(TLS_CERT_UNTRUSTED)');
  }, 120_000);

  it('a --ca file that is not a PEM certificate is refused with INVALID_INPUT and no account is added', async () => {
    const junk = path.join(tmp, 'not-a-cert.pem');
    fs.writeFileSync(junk, 'hello, this is no certificate\n');
    const broken = path.join(tmp, 'broken-cert.pem');
    fs.writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAAnotbase64der\n-----END CERTIFICATE-----\n');
    for (const file of [junk, broken, path.join(tmp, 'missing.pem')]) {
      const r = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.tlsPort), '--user', 'bob', '--ca', file, '--data-dir', dataDir], { MAILKEEP_PASSWORD: 'x' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error INVALID_INPUT: .*(no PEM certificate|not a valid PEM certificate|cannot read --ca file)/);
    }
    const list = await cli(['account', 'list', '--data-dir', dataDir]);
    expect(list.stdout).not.toContain('bob');
  });
});

describe.skipIf(!dovecotAvailable())('a TLS failure names its cause (test connection against a real Dovecot)', () => {
  let dc: Dovecot;
  let wrongName: Dovecot;
  let expired: Dovecot;
  const account = (over: Partial<ImapAccount>): ImapAccount => ({ id: 'alice', host: '127.0.0.1', port: dc.tlsPort, security: 'tls', user: ALICE.name, ...over });

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE] });
    // A server whose certificate is trusted (given as its CA) but made out to another name.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dovecot-name-'));
    fs.mkdirSync(path.join(dir, 'ssl'), { recursive: true });
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=mail.example.org',
      '-addext', 'subjectAltName=DNS:mail.example.org', '-keyout', path.join(dir, 'ssl', 'key.pem'), '-out', path.join(dir, 'ssl', 'cert.pem')]);
    expect(r.status, String(r.stderr)).toBe(0);
    wrongName = await startDovecot({ users: [ALICE], dir });
    expired = await startDovecot({ users: [ALICE], dir: dirWithExpiredCert() });
  });

  afterAll(async () => {
    await dc?.stop();
    await wrongName?.stop();
    await expired?.stop();
  });

  it('a trusted certificate that expired in 2020 is TLS_CERT_EXPIRED', async () => {
    const r = await testImapConnection(account({ port: expired.tlsPort, ca: expired.certPem }), ALICE.password);
    expect(r).toMatchObject({ ok: false, errorCode: 'TLS_CERT_EXPIRED', checks: { reached: true, secure: false } });
  });

  it('a self-signed certificate is TLS_CERT_UNTRUSTED; the same server with its certificate given signs in', async () => {
    expect(await testImapConnection(account({}), ALICE.password)).toMatchObject({ ok: false, errorCode: 'TLS_CERT_UNTRUSTED', checks: { reached: true, secure: false } });
    expect(await testImapConnection(account({ ca: dc.certPem }), ALICE.password)).toMatchObject({ ok: true, checks: { signedIn: true } });
  });

  it('a trusted certificate made out to another host name is TLS_CERT_NAME_MISMATCH', async () => {
    const r = await testImapConnection(account({ port: wrongName.tlsPort, ca: wrongName.certPem }), ALICE.password);
    expect(r).toMatchObject({ ok: false, errorCode: 'TLS_CERT_NAME_MISMATCH', checks: { reached: true, secure: false } });
  });

  it('TLS asked of the plain-text port is TLS_WRONG_PORT, and STARTTLS there with the certificate works', async () => {
    const r = await testImapConnection(account({ port: dc.port, ca: dc.certPem }), ALICE.password);
    expect(r).toMatchObject({ ok: false, errorCode: 'TLS_WRONG_PORT', checks: { reached: true, secure: false } });
    expect(await testImapConnection(account({ port: dc.port, security: 'starttls', ca: dc.certPem }), ALICE.password)).toMatchObject({ ok: true });
  });
});

/**
 * A Dovecot dir whose certificate (SAN localhost, 127.0.0.1) was valid only on 2020-01-01: fixed
 * dates in the past, so the test does not depend on today's date. `openssl ca` is the one openssl
 * 3.0 command that takes a start and end date.
 */
function dirWithExpiredCert(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dovecot-expired-'));
  const ssl = path.join(dir, 'ssl');
  fs.mkdirSync(ssl, { recursive: true });
  fs.writeFileSync(path.join(ssl, 'index.txt'), '');
  fs.writeFileSync(path.join(ssl, 'serial'), '01\n');
  fs.writeFileSync(
    path.join(ssl, 'ca.cnf'),
    '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:TRUE\n',
  );
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: ssl });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'req.csr']);
  run(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'key.pem', '-in', 'req.csr', '-extensions', 'ext', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', 'cert.pem']);
  return dir;
}
