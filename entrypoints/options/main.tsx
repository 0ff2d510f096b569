import { render } from 'preact';
import '@/components/mailkeep.css';
import './options.css';
import { OptionsApp } from '@/components/options-app';

render(<OptionsApp />, document.getElementById('app') as HTMLElement);
