import { render } from 'preact';
import '@/components/mailkeep.css';
import './popup.css';
import { PopupApp } from '@/components/popup-app';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <PopupApp />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
