// Shares one WS /api/live connection with every page while the user is signed in.
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import type { CallState } from './call-state.js';
import { LiveFeed } from './live-feed.js';
import type { LiveSnapshot } from './live-feed.js';

const LiveContext = createContext<LiveFeed | null>(null);

export function LiveProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const [feed] = useState(() => new LiveFeed());
  useEffect(() => {
    if (!enabled) return;
    feed.start();
    return () => feed.stop();
  }, [feed, enabled]);
  return <LiveContext.Provider value={feed}>{children}</LiveContext.Provider>;
}

export function useLiveFeed(): LiveFeed {
  const feed = useContext(LiveContext);
  if (!feed) throw new Error('useLiveFeed needs a <LiveProvider>');
  return feed;
}

export function useLive(): LiveSnapshot {
  const feed = useLiveFeed();
  return useSyncExternalStore(feed.subscribe, feed.getSnapshot);
}

export function useLiveCall(callId: string | null | undefined): CallState | null {
  const { calls } = useLive();
  return callId ? (calls.get(callId) ?? null) : null;
}

/** The newest live call with this Twilio call SID (a replaced stream leaves an older one behind). */
export function useLiveCallBySid(callSid: string | null | undefined): CallState | null {
  const { calls } = useLive();
  if (!callSid) return null;
  let found: CallState | null = null;
  for (const call of calls.values()) if (call.callSid === callSid) found = call;
  return found;
}
