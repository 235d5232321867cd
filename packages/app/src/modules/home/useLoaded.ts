import { DependencyList, useEffect, useState } from 'react';

/** What an async load gave, or why it failed; nothing while it runs. */
export function useLoaded<T>(
  load: () => Promise<T>,
  deps: DependencyList,
): { value?: T; error?: Error; loading: boolean } {
  const [state, setState] = useState<{ value?: T; error?: Error }>({});
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      value => live && (setState({ value }), setLoading(false)),
      error => live && (setState({ error }), setLoading(false)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { ...state, loading };
}
