// Polling that waits for each answer: the next request goes out intervalMs after the last one answered
// (never two in flight), only while `active`, and never while the tab is hidden. Unmounting stops it.
import { useEffect, useSyncExternalStore } from 'react';

function subscribeVisibility(onChange: () => void): () => void {
  document.addEventListener('visibilitychange', onChange);
  return () => document.removeEventListener('visibilitychange', onChange);
}

export function usePageVisible(): boolean {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState !== 'hidden');
}

/**
 * Calls `refresh` intervalMs after `lastAnswer` changes (pass the resource's data and error), while active
 * and visible. A tab that was hidden starts again intervalMs after it shows.
 */
export function usePoll(active: boolean, intervalMs: number, refresh: () => void, lastAnswer: unknown): void {
  const visible = usePageVisible();
  useEffect(() => {
    if (!active || !visible) return;
    const timer = setTimeout(refresh, intervalMs);
    return () => clearTimeout(timer);
  }, [active, visible, intervalMs, refresh, lastAnswer]);
}
