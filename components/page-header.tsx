import type { ComponentChildren } from 'preact';
import { Logo } from './icons';

export type PageId = 'dashboard' | 'options' | 'migrate' | 'welcome' | 'archive';

const PAGES: { id: PageId; href: string; label: string }[] = [
  { id: 'dashboard', href: '/dashboard.html', label: 'System Status' },
  { id: 'options', href: '/options.html', label: 'Mailboxes & settings' },
  { id: 'migrate', href: '/migrate.html', label: 'Migrate' },
  { id: 'archive', href: '/archive.html', label: 'Archive' },
  { id: 'welcome', href: '/welcome.html', label: 'Getting started' },
];

/** The frame of every full page: the brand, the page's title, and links to the others (a way back from each). */
export function PageHeader({ current, title, children }: { current: PageId; title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div class="brand">
        <Logo />
        <h1>{title}</h1>
      </div>
      <nav class="page-nav" aria-label="Mailkeep pages" data-testid="page-nav">
        {PAGES.map((p) => (
          <a href={p.href} aria-current={p.id === current ? 'page' : undefined} data-page={p.id}>
            {p.label}
          </a>
        ))}
      </nav>
      {children}
    </header>
  );
}
