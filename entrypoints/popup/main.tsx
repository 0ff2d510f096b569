import { render } from 'preact';
import '@/components/mailkeep.css';
import './popup.css';
import { PopupApp } from '@/components/popup-app';

render(<PopupApp />, document.getElementById('app') as HTMLElement);
