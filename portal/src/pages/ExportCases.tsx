import { useState } from 'react';
import { api, asProblem, type Api, type Problem } from '../api/client';
import { ProblemBanner } from '../components';

type Fetched = { data?: unknown; error?: unknown; response: Response };

/** A button that fetches a CSV from the API (with the caller's token) and saves it as a file. */
export function DownloadButton({ label, fetch }: { label: string; fetch: (c: Api) => Promise<Fetched> }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const { data, error, response } = await fetch(await api());
      if (error || !data) return setProblem(asProblem(error, response.status));
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'export.csv';
      const url = URL.createObjectURL(data as Blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <ProblemBanner problem={problem} />
      <button type="button" className="button secondary" onClick={() => void download()} disabled={busy}>
        {busy ? 'Preparing the file…' : label}
      </button>
    </>
  );
}

/**
 * Download the caller's case list as CSV (issue 16): the cases this page lists, with what the
 * list shows — never health information, safety notes, addresses or contacts. The download is
 * recorded in each case's audit trail.
 */
export function ExportCases() {
  return (
    <section aria-labelledby="export-cases">
      <h2 id="export-cases">Download</h2>
      <p className="hint">Your cases as a spreadsheet (CSV): no health information, safety notes, addresses or contacts. Downloads are recorded in each case’s audit trail; keep the file as private as the portal.</p>
      <DownloadButton label="Download your case list (CSV)" fetch={(c) => c.GET('/exports/cases', { parseAs: 'blob' })} />
    </section>
  );
}
