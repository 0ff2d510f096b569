import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountRow } from '@/lib/storage/rows';
import type { SaveAccountReply, TestConnectionReply } from '@/lib/background/messages';
import { testConnectionText } from '@/lib/status/test-connection-words';
import { errorHint } from '@/lib/status/error-hints';
import { AccountInput, issuesOf, type AccountInputIssues } from '@/lib/storage/account-input';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { presetFor, providerName, signInChoiceFor, signInLabel as labelOf } from '@/lib/options/presets';
import { signInWithProvider } from '@/lib/ui/oauth-sign-in';
import { sendMessage } from '@/lib/ui/send-message';

interface FormValues {
  displayName: string;
  email: string;
  username: string;
  host: string;
  port: string;
  security: 'tls' | 'starttls' | 'none';
  scheduleEnabled: boolean;
  scheduleKind: 'every' | 'daily';
  everyHours: string;
  dailyAt: string;
}

const EMPTY: FormValues = {
  displayName: '', email: '', username: '', host: '', port: '993', security: 'tls',
  scheduleEnabled: true, scheduleKind: 'every', everyHours: String(EXTENSION_LIMITS.defaultScheduleHours), dailyAt: '02:00',
};

function valuesOf(a: AccountRow): FormValues {
  return {
    displayName: a.displayName, email: a.email, username: a.username, host: a.host, port: String(a.port),
    security: a.security,
    scheduleEnabled: a.schedule.kind !== 'off',
    scheduleKind: a.resumeSchedule.kind,
    everyHours: String(a.resumeSchedule.kind === 'every' ? a.resumeSchedule.hours : EXTENSION_LIMITS.defaultScheduleHours),
    dailyAt: a.resumeSchedule.kind === 'daily' ? a.resumeSchedule.at : '02:00',
  };
}

/**
 * Add or edit an account. Validated with the same zod schema as the store, here for errors next
 * to the fields and again in the service worker, which saves nothing invalid.
 */
export function AccountForm({ account, onSaved }: { account: AccountRow | undefined; onSaved: (id: string) => void }) {
  const [values, setValues] = useState<FormValues>(account ? valuesOf(account) : EMPTY);
  const [issues, setIssues] = useState<AccountInputIssues>({});
  const [saved, setSaved] = useState(false);
  const [presetHost, setPresetHost] = useState<string | null>(null);
  // Held only while the page is open; sent once to the relay on Save, never stored in the browser.
  const [password, setPassword] = useState('');
  const [relayNote, setRelayNote] = useState<string | null>(null);
  const [test, setTest] = useState<{ ok: boolean; text: string; checked?: string | null; code?: string | null } | null>(null);
  const [testing, setTesting] = useState(false);
  // "This address is at Google Workspace / Microsoft 365", for a domain no preset knows.
  const [hostedAt, setHostedAt] = useState<'' | 'google' | 'microsoft' | 'custom'>('');
  const [customProvider, setCustomProvider] = useState('');
  const [signIn, setSignIn] = useState<{ state: 'waiting' | 'failed' | 'completed'; text: string } | null>(null);
  // Saving a new account switches the page to "#account=ID": that switch must keep "Saved." showing.
  const savedId = useRef<string | null>(null);
  useEffect(() => {
    setValues(account ? valuesOf(account) : EMPTY);
    setIssues({});
    setTest(null);
    if (account?.id !== savedId.current) {
      setSignIn(null);
      setSaved(false);
      setRelayNote(null);
    }
  }, [account?.id]);

  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) => {
    setSaved(false);
    setValues((v) => {
      const next = { ...v, [key]: value };
      // Fill the server from the provider of the address, unless the user typed a server.
      if (key === 'email') {
        const preset = presetFor(String(value));
        if (preset && (v.host === '' || v.host === presetHost)) {
          Object.assign(next, { host: preset.host, port: String(preset.port), security: preset.security });
          setPresetHost(preset.host);
        }
      }
      return next;
    });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const local = AccountInput.safeParse(values);
    if (!local.success) return setIssues(issuesOf(local.error));
    const reply = await sendMessage<SaveAccountReply>({ type: 'save-account', accountId: account?.id, input: values, ...(password ? { password } : {}) });
    if (!reply.ok) return setIssues({ form: reply.message });
    const { saved: result, relay, relayErrorCode } = reply.value;
    if (!result.ok) return setIssues(result.issues);
    setIssues({});
    setPassword('');
    setRelayNote(
      relay
        ? relay.hasPassword
          ? 'The relay keeps the password (encrypted).'
          : 'The relay has no password for this mailbox yet: type it and save again.'
        : `Saved in the browser only: ${errorHint(relayErrorCode) ?? 'the relay did not answer.'}${password ? ' The password was not stored; save again once the relay runs.' : ''}`,
    );
    savedId.current = result.account.id;
    setSaved(true);
    onSaved(result.account.id);
  };

  const testConnection = async () => {
    const local = AccountInput.safeParse(values);
    if (!local.success) return setIssues(issuesOf(local.error));
    setTesting(true);
    setTest(null);
    const reply = await sendMessage<TestConnectionReply>({ type: 'test-connection', accountId: account?.id, input: values, ...(password ? { password } : {}) });
    setTesting(false);
    if (!reply.ok) return setTest({ ok: false, text: errorHint(reply.code) ?? reply.message, code: reply.code });
    // Words first, what was checked after; the code only on the element (data-code).
    const words = testConnectionText(reply.value, { security: values.security, oauth: Boolean(accountProvider) });
    setTest({ ...words, code: reply.value.ok ? null : reply.value.errorCode });
  };

  // An account the relay signs in with OAuth2 keeps doing so: it has no password to edit.
  const accountProvider = account?.relay?.oauthProvider;
  const choice = accountProvider
    ? { oauth: accountProvider, passwordField: false, appPassword: null, noPasswordReason: null }
    : signInChoiceFor(values.email, hostedAt === 'custom' ? customProvider.trim() || null : hostedAt || null);
  const knownDomain = presetFor(values.email) !== null;
  const hasDomain = /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email.trim());

  const startSignIn = async () => {
    if (!choice.oauth) return;
    const email = values.email.trim();
    if (!hasDomain) return setIssues({ email: 'Enter an email address such as name@example.com.' });
    setIssues({});
    setSignIn({ state: 'waiting', text: 'Starting the sign-in…' });
    const outcome = await signInWithProvider({ provider: choice.oauth, email, accountId: account?.id }, () =>
      setSignIn({ state: 'waiting', text: 'Finish the sign-in in the tab that opened; this page follows it.' }),
    );
    if (!outcome.ok) return setSignIn({ state: 'failed', text: outcome.text });
    setSignIn({ state: 'completed', text: 'Signed in. The first backup starts now.' });
    savedId.current = outcome.accountId;
    onSaved(outcome.accountId);
  };

  const signInLabel = choice.oauth ? (accountProvider ? 'Sign in again' : labelOf(choice.oauth)) : null;

  const field = (key: 'displayName' | 'email' | 'username' | 'host' | 'port', label: string, extra: Record<string, string> = {}) => (
    <div class="field">
      <label for={`f-${key}`}>{label}</label>
      <input
        id={`f-${key}`}
        name={key}
        value={values[key]}
        aria-invalid={issues[key] ? 'true' : undefined}
        aria-describedby={issues[key] ? `e-${key}` : undefined}
        onInput={(e) => set(key, e.currentTarget.value)}
        {...extra}
      />
      {issues[key] && (
        <div class="error-text" id={`e-${key}`} data-testid={`error-${key}`}>
          {issues[key]}
        </div>
      )}
    </div>
  );

  return (
    <form onSubmit={(e) => void submit(e)} noValidate data-testid="account-form">
      <h2>{account ? `Edit ${account.displayName}` : 'Add a mailbox'}</h2>
      {field('email', 'Email address', { type: 'email', autocomplete: 'email', placeholder: 'name@example.com' })}
      {!accountProvider && hasDomain && !knownDomain && (
        <div class="field">
          <label for="f-hostedAt">Where is this address hosted?</label>
          <select id="f-hostedAt" name="hostedAt" value={hostedAt} onChange={(e) => setHostedAt(e.currentTarget.value as typeof hostedAt)}>
            <option value="">An IMAP server (password)</option>
            <option value="google">This address is at Google Workspace</option>
            <option value="microsoft">This address is at Microsoft 365</option>
            <option value="custom">A sign-in provider set up on the relay (Keycloak, Dovecot OAuth2…)</option>
          </select>
          {hostedAt === 'custom' && (
            <>
              <label for="f-oauthProvider">Provider id (its file in the relay's oauth-providers folder, docs/oauth.md)</label>
              <input id="f-oauthProvider" name="oauthProvider" value={customProvider} onInput={(e) => setCustomProvider(e.currentTarget.value)} />
            </>
          )}
        </div>
      )}
      {signInLabel && (
        <div class="field" data-testid="oauth-sign-in">
          {accountProvider && <div class="small muted">Signed in with {providerName(accountProvider)}: the relay keeps the sign-in, no password is stored.</div>}
          <button type="button" class="primary" data-action="oauth-sign-in" disabled={signIn?.state === 'waiting'} onClick={() => void startSignIn()}>
            {signInLabel}
          </button>
          {choice.noPasswordReason && <div class="small" data-testid="no-password-reason">{choice.noPasswordReason}</div>}
          {signIn && (
            <div class={signIn.state === 'failed' ? 'error-text' : 'small'} role="status" data-testid="oauth-result" data-state={signIn.state}>
              {signIn.text}
            </div>
          )}
        </div>
      )}
      {field('displayName', 'Display name (optional)')}
      {field('username', 'User name (optional, defaults to the address)', { autocomplete: 'username' })}
      {field('host', 'IMAP server', { placeholder: 'imap.example.com' })}
      {field('port', 'Port', { inputMode: 'numeric' })}
      <div class="field">
        <label for="f-security">Security</label>
        <select id="f-security" name="security" value={values.security} onChange={(e) => set('security', e.currentTarget.value as FormValues['security'])}>
          <option value="tls">TLS</option>
          <option value="starttls">STARTTLS</option>
          <option value="none">None (unencrypted)</option>
        </select>
      </div>
      <fieldset class="field">
        <legend>Schedule (run by the relay, also while the browser is closed)</legend>
        <label>
          <input type="checkbox" name="scheduleEnabled" checked={values.scheduleEnabled} onChange={(e) => set('scheduleEnabled', e.currentTarget.checked)} /> Back up
          automatically
        </label>
        <div class="schedule-row">
          <label>
            <input type="radio" name="scheduleKind" value="every" checked={values.scheduleKind === 'every'} disabled={!values.scheduleEnabled} onChange={() => set('scheduleKind', 'every')} /> every
          </label>
          <input
            id="f-everyHours"
            name="everyHours"
            class="narrow"
            inputMode="numeric"
            aria-label="Hours between backups"
            aria-invalid={issues.everyHours ? 'true' : undefined}
            aria-describedby={issues.everyHours ? 'e-everyHours' : undefined}
            value={values.everyHours}
            disabled={!values.scheduleEnabled || values.scheduleKind !== 'every'}
            onInput={(e) => set('everyHours', e.currentTarget.value)}
          />{' '}
          <span aria-hidden="true">hours</span>
        </div>
        <div class="schedule-row">
          <label>
            <input type="radio" name="scheduleKind" value="daily" checked={values.scheduleKind === 'daily'} disabled={!values.scheduleEnabled} onChange={() => set('scheduleKind', 'daily')} /> daily at
          </label>
          <input
            id="f-dailyAt"
            name="dailyAt"
            type="time"
            class="narrow"
            aria-label="Time of the daily backup"
            aria-invalid={issues.dailyAt ? 'true' : undefined}
            aria-describedby={issues.dailyAt ? 'e-dailyAt' : undefined}
            value={values.dailyAt}
            disabled={!values.scheduleEnabled || values.scheduleKind !== 'daily'}
            onInput={(e) => set('dailyAt', e.currentTarget.value)}
          />
        </div>
        {!values.scheduleEnabled && <div class="small muted">Off: the account shows as Deactivated until you enable it.</div>}
        {issues.everyHours && <div class="error-text" id="e-everyHours" data-testid="error-everyHours">{issues.everyHours}</div>}
        {issues.dailyAt && <div class="error-text" id="e-dailyAt" data-testid="error-dailyAt">{issues.dailyAt}</div>}
      </fieldset>
      {choice.passwordField && (
      <div class="field">
        {/* Sent once to the relay, which keeps it encrypted; never stored in the browser. */}
        <label for="f-password">Password{account ? ' (leave empty to keep the stored one)' : ''}</label>
        <input id="f-password" name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => { setSaved(false); setPassword(e.currentTarget.value); }} />
        <div class="small muted">Kept encrypted by the Mailkeep relay on this computer, never stored in the browser.</div>
        {choice.appPassword && (
          <div class="small" data-testid="app-password-advice">
            <ol>
              {choice.appPassword.steps.map((step) => (
                <li key={step}>{step}</li>
              ))}
            </ol>
            Create it at{' '}
            <a href={choice.appPassword.url} target="_blank" rel="noreferrer" data-testid="app-password-url">
              {choice.appPassword.url}
            </a>
          </div>
        )}
      </div>
      )}
      {issues.form && <div class="error-text" data-testid="error-form">{issues.form}</div>}
      <div class="actions">
        {/* A new Outlook.com / Microsoft 365 mailbox can only be signed in: a saved password account would never log in. */}
        {(account || choice.passwordField) && <button class={signInLabel ? '' : 'primary'} type="submit">Save</button>}
        {(account || choice.passwordField) && (
          <button type="button" data-action="test-connection" disabled={testing} onClick={() => void testConnection()}>
            {testing ? 'Testing…' : 'Test connection'}
          </button>
        )}
        {saved && <span role="status" data-testid="saved">Saved.</span>}
      </div>
      {saved && relayNote && <div class="small muted" data-testid="relay-note">{relayNote}</div>}
      {test && (
        <div role="status" data-testid="test-connection" data-ok={String(test.ok)} data-code={test.code ?? ''}>
          <div class={test.ok ? 'small' : 'error-text'} data-testid="test-result" data-ok={String(test.ok)} data-code={test.code ?? ''}>
            {test.text}
          </div>
          {test.checked && (
            <div class="small muted" data-testid="test-checked">
              {test.checked}
            </div>
          )}
        </div>
      )}
    </form>
  );
}
