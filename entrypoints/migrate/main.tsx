import { render } from 'preact';
import '@/components/mailkeep.css';
import './migrate.css';
import { MigrateForm } from '@/components/migrate-form';

render(<MigrateForm />, document.getElementById('app') as HTMLElement);
