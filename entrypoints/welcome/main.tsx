import { render } from 'preact';
import '@/components/mailkeep.css';
// The account form's field styles are the options page's: step 2 is that same form.
import '../options/options.css';
import './welcome.css';
import { WelcomeApp } from '@/components/welcome-app';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <WelcomeApp />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
