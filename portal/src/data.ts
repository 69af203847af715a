import { useCallback, useEffect, useState } from 'react';
import { api, asProblem, type Api, type CaseStatus, type CaseSummary, type Problem } from './api/client';

/** Load something from the API; `reload` runs it again. */
export function useLoad<T>(load: (c: Api) => Promise<T>, deps: unknown[]): { data: T | null; problem: Problem | null; loading: boolean; reload: () => Promise<void>; set: (t: T) => void } {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await run(await api()));
      setProblem(null);
    } catch (e) {
      setProblem(asProblem(e));
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, problem, loading, reload, set: setData };
}

/** Every page of GET /cases (optionally one status), up to `maxPages`. */
export async function allCases(c: Api, status?: CaseStatus, maxPages = 10): Promise<CaseSummary[]> {
  const out: CaseSummary[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const { data, error, response } = await c.GET('/cases', { params: { query: { status, limit: 100, cursor } } });
    if (error || !data) throw asProblem(error, response.status);
    out.push(...data.items);
    if (!data.nextCursor) break;
    cursor = data.nextCursor;
  }
  return out;
}

export function oldestFirst<T extends { referredAt: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => a.referredAt.localeCompare(b.referredAt));
}
