// Loads one API resource for a component: data, error, loading, and reload() (aborted on unmount or change).
// refresh() asks again without flagging `loading` (polling: the table does not dim every few seconds).
import { useCallback, useEffect, useRef, useState } from 'react';
import { apiRequest } from '../api/api-client.js';

export interface ApiResource<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
  refresh: () => void;
}

export function useApi<T>(path: string | null): ApiResource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [generation, setGeneration] = useState(0);
  const quiet = useRef(false);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const refresh = useCallback(() => {
    quiet.current = true;
    setGeneration((g) => g + 1);
  }, []);

  useEffect(() => {
    const silent = quiet.current;
    quiet.current = false;
    if (path === null) return;
    const controller = new AbortController();
    if (!silent) setLoading(true);
    apiRequest<T>(path, { signal: controller.signal }).then(
      (result) => {
        setData(result);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [path, generation]);

  return { data, error, loading, reload, refresh };
}
