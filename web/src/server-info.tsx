// GET /api/info once per sign-in: voices, built-in variables and the like for forms.
import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';
import type { ServerInfo } from './api/types.js';
import type { ApiResource } from './components/use-api.js';
import { useApi } from './components/use-api.js';

const ServerInfoContext = createContext<ApiResource<ServerInfo> | null>(null);

export function ServerInfoProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const info = useApi<ServerInfo>(enabled ? '/api/info' : null);
  return <ServerInfoContext.Provider value={info}>{children}</ServerInfoContext.Provider>;
}

export function useServerInfo(): ApiResource<ServerInfo> {
  const value = useContext(ServerInfoContext);
  if (!value) throw new Error('useServerInfo needs a <ServerInfoProvider>');
  return value;
}
