import { useState } from 'react';
import { api, asProblem, type Problem } from '../api/client';
import { ProblemBanner } from '../components';

/**
 * Download the caller's case list as CSV (issue 16): the cases this page lists, with what the
 * list shows — never health information, safety notes, addresses or contacts. The download is
 * recorded in each case's audit trail.
 */
export function ExportCases() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const { data, error, response } = await (await api()).GET('/exports/cases', { parseAs: 'blob' });
      if (error || !data) return setProblem(asProblem(error, response.status));
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'cases.csv';
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
    <section aria-labelledby="export-cases">
      <h2 id="export-cases">Download</h2>
      <ProblemBanner problem={problem} />
      <p className="hint">Your cases as a spreadsheet (CSV): no health information, safety notes, addresses or contacts. Downloads are recorded in each case’s audit trail; keep the file as private as the portal.</p>
      <button type="button" className="button secondary" onClick={() => void download()} disabled={busy}>
        {busy ? 'Preparing the file…' : 'Download your case list (CSV)'}
      </button>
    </section>
  );
}
