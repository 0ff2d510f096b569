import { render } from 'preact';
import '@/components/mailkeep.css';
import './dashboard.css';
import { DashboardApp } from '@/components/dashboard-app';
import { FreshnessProvider } from '@/components/freshness-provider';

render(
  <FreshnessProvider>
    <DashboardApp />
  </FreshnessProvider>,
  document.getElementById('app') as HTMLElement);
