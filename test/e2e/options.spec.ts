/// <reference types="chrome" />
import { test, expect, sendToWorker, cspViolations } from './fixtures';
import { pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

interface Diagnostics {
  accounts: { host: string; port: number }[];
}
async function storedAccounts(page: import('@playwright/test').Page) {
  const reply = await sendToWorker<{ ok: boolean; value: string }>(page, { type: 'diagnostics' });
  return (JSON.parse(reply.value) as Diagnostics).accounts;
}

test.describe('the options page', () => {
  test('fills the server from the address, and with no relay saves nothing and says why (the relay owns accounts)', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('options.html');
    await expect(page.getByRole('heading', { name: 'Add a mailbox' })).toBeVisible();
    await page.getByLabel('Email address').pressSequentially('alice@gmail.com');
    // Filled from the provider preset:
    await expect(page.getByLabel('IMAP server')).toHaveValue('imap.gmail.com');
    await expect(page.getByLabel('Port', { exact: true })).toHaveValue('993');
    await page.getByLabel('Display name (optional)').pressSequentially('Alice at Gmail');
    await page.getByLabel('IMAP server').fill('');
    await page.getByLabel('IMAP server').pressSequentially('mail.example.net');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-form')).toContainText('Nothing was saved');
    await expect(page.getByTestId('saved')).toHaveCount(0);
    expect(await storedAccounts(page)).toEqual([]);
    // Every page says the relay is not reachable; this one offers pairing by code.
    await expect(page.getByTestId('relay-unreachable')).toBeVisible();
    const popup = await openExtensionPage('popup.html');
    await expect(popup.getByTestId('empty-state')).toBeVisible();
    expect(await cspViolations(page)).toEqual([]);
  });

  test('a bad port or an empty host shows an error next to the field and saves nothing', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('options.html');
    await page.getByLabel('Email address').pressSequentially('bob@example.org');
    await page.getByLabel('IMAP server').pressSequentially('imap.example.org');
    for (const port of ['0', '70000', 'abc']) {
      await page.getByLabel('Port', { exact: true }).fill('');
      await page.getByLabel('Port', { exact: true }).pressSequentially(port);
      await page.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByTestId('error-port'), `port ${port}`).toHaveText('Port must be a whole number from 1 to 65535.');
      await expect(page.getByLabel('Port', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    }
    await page.getByLabel('Port', { exact: true }).fill('993');
    await page.getByLabel('IMAP server').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-host')).toContainText('Enter the IMAP server host name');
    await expect(page.getByTestId('error-port')).toHaveCount(0);
    await expect(page.getByTestId('saved')).toHaveCount(0);
    expect(await storedAccounts(page)).toEqual([]);
    // The service worker refuses the same input on its own, whatever the page does.
    const reply = await sendToWorker(page, { type: 'save-account', input: { email: 'bob@example.org', host: '', port: '99999', security: 'tls', scheduleEnabled: true, everyHours: '24' } });
    expect(reply).toMatchObject({ ok: true, value: { saved: { ok: false, issues: { host: expect.any(String), port: expect.any(String) } } } });
    expect(await storedAccounts(page)).toEqual([]);
  });

  test('an empty popup with no relay leads a new user to connect the relay first, on the Welcome page', async ({ context, openExtensionPage }) => {
    const popup = await openExtensionPage('popup.html');
    await expect(popup.getByTestId('empty-state')).toContainText('Connect the relay first');
    await expect(popup.getByTestId('empty-state').getByRole('button', { name: 'Add a mailbox' })).toHaveCount(0);
    const [welcome] = await Promise.all([context.waitForEvent('page'), popup.getByTestId('empty-state').getByRole('button', { name: 'Connect the relay' }).click()]);
    await expect(welcome).toHaveURL(/\/welcome\.html$/);
    await expect(welcome.getByTestId('step-relay')).toHaveAttribute('data-state', 'current');
    // With the relay connected it says "Add a mailbox" instead: first-run.spec.ts.
  });
});

test('the restore prompt setting is kept in the store', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('options.html');
  const group = page.getByTestId('restore-prompts');
  await expect(group.getByLabel('Only when many messages disappear at once')).toBeChecked(); // the default
  await group.getByLabel('Never', { exact: true }).check();
  await page.reload();
  await expect(page.getByTestId('restore-prompts').getByLabel('Never', { exact: true })).toBeChecked();
});

test.describe('Test connection on the edit form, against the real relay and Dovecot', () => {
  const shared = relayWorldPerFile({ initialMessages: 1, testTimeoutMs: 90_000, setupTimeoutMs: 90_000 });

  test('leads with words, says what was checked and what failed, and never sends the user to "Edit" from the edit form', async () => {
    const { world } = shared;
    const options = await pairedOptions(world);
    const box = worldMailbox(world);
    await options.locator('#f-email').fill(box.email);
    await options.locator('#f-username').fill(box.username);
    await options.locator('#f-host').fill('127.0.0.1');
    await options.locator('#f-port').fill(String(box.port));
    await options.locator('#f-security').selectOption('none');
    const result = options.getByTestId('test-result');
    const testWith = async (password: string) => {
      await options.locator('#f-password').fill(password);
      await options.getByRole('button', { name: 'Test connection' }).click();
    };

    await testWith('not-the-password');
    await expect(result).toHaveAttribute('data-code', 'AUTH_FAILED', { timeout: 20_000 });
    await expect(result).toHaveText('Could not sign in. The mail server refused the user name or password. Check the user name and password above, then test again.');
    await expect(options.getByTestId('test-checked')).toHaveText('Checked: Reached the server: yes. Encryption: off (security is set to None). Signed in: no. Folders listed: not tried.');
    await options.screenshot({ path: test.info().outputPath('options-test-connection-refused.png') });

    await options.locator('#f-port').fill('1');
    await testWith(box.password);
    await expect(result).toHaveAttribute('data-code', 'CONNECTION_REFUSED', { timeout: 20_000 });
    await expect(result).toHaveText('Could not reach the server. Nothing answered at this server and port: check both above.');
    await expect(options.getByTestId('test-checked')).toContainText(/^Checked: Reached the server: no\./);

    await options.locator('#f-port').fill(String(box.port));
    await testWith(box.password);
    await expect(result).toHaveAttribute('data-ok', 'true', { timeout: 20_000 });
    await expect(result).toHaveText(/^Connected: reached the server, not encrypted \(security is set to None\), the server accepted the user name and password, \d+ folders? listed\.$/);
    await expect(options.getByTestId('test-checked')).toHaveCount(0);
  });
});
