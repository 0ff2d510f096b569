import { render } from 'preact';
import '@/components/mailkeep.css';
import './archive.css';
import { ArchiveApp } from '@/components/archive-app';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <ArchiveApp />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
