import { render } from 'preact';
import '@/components/mailkeep.css';
import './options.css';
import { OptionsApp } from '@/components/options-app';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <OptionsApp />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
