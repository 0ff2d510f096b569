import { render } from 'preact';
import '@/components/mailkeep.css';
import './migrate.css';
import { MigrateForm } from '@/components/migrate-form';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <MigrateForm />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
