/**
 * The WAI-ARIA tabs pattern's keyboard (automatic activation): Left/Right move to the previous/next
 * tab and wrap, Home/End go to the first/last. Returns the index to select, or null for other keys.
 */
export function tabIndexForKey(key: string, current: number, count: number): number | null {
  switch (key) {
    case 'ArrowRight':
      return (current + 1) % count;
    case 'ArrowLeft':
      return (current - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
