import type { ComponentChildren } from 'preact';
import { FreshnessContext, usePageFreshness } from '@/lib/ui/use-freshness';

/** Gives every status on the page the same view of the relay link, aged by one page clock. */
export function FreshnessProvider({ children }: { children: ComponentChildren }) {
  return <FreshnessContext.Provider value={usePageFreshness()}>{children}</FreshnessContext.Provider>;
}
