import { render } from 'preact';
import '@/components/mailkeep.css';
import './dashboard.css';
import { DashboardApp } from '@/components/dashboard-app';

render(<DashboardApp />, document.getElementById('app') as HTMLElement);
