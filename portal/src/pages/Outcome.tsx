import { useEffect, useState } from 'react';
import { api, asProblem, type Case, type Me, type Problem, type SubmitResult } from '../api/client';
import { Notice, ProblemBanner } from '../components';
import { STATUS_LABEL } from '../format';
import { Link } from '../router';
import { ProviderName } from '../directory';

/** What the form page hands over in history.state: ids and the outcome only, never the form. */
export type OutcomeState = Pick<SubmitResult, 'caseId' | 'outcome'> & Partial<Pick<SubmitResult, 'caseStatus' | 'message'>>;

/** After submission: what happened to the request, which provider has it, what happens next. */
export function OutcomePage({ me, id }: { me: Me; id: string }) {
  const [result, setResult] = useState<OutcomeState | null>(() => (history.state as { result?: OutcomeState } | null)?.result ?? null);
  const [kase, setCase] = useState<Case | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    document.title = 'CA request submitted - Attendance Service Portal';
  }, []);

  useEffect(() => {
    let stop = false;
    void (async () => {
      const c = await api();
      let caseId = result?.caseId ?? null;
      if (!result) {
        const { data, error, response } = await c.GET('/referrals/{id}', { params: { path: { id } } });
        if (error || !data) return setProblem(asProblem(error, response.status));
        caseId = data.caseId ?? null;
        setResult({ caseId, caseStatus: null, message: '', outcome: caseId ? 'created' : 'received' });
      }
      if (!caseId) return;
      // allocation follows the submission within a second or two: wait for the provider
      for (let i = 0; i < 20 && !stop; i++) {
        const { data } = await c.GET('/cases/{id}', { params: { path: { id: caseId } } });
        if (data && 'status' in data) {
          setCase(data);
          if (data.providerId) break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return () => {
      stop = true;
    };
  }, [id, result]);

  const outcome = result?.outcome;
  const title =
    outcome === 'reopened' ? 'The ākonga’s case has been reopened' : outcome === 'converted' ? 'The ākonga’s case is now your school’s CA case' : outcome === 'received' ? 'Your CA request has been received' : 'Your CA request has been submitted';
  const isp = kase?.allocationChoice === 'in_school_provision';
  return (
    <>
      <ProblemBanner problem={problem} />
      <div className="panel-confirm">
        <h1 tabIndex={-1}>{title}</h1>
        {kase && <p>Case reference: {kase.id}</p>}
      </div>
      {result?.message && <p>{result.message}</p>}
      {outcome === 'received' && <p>The ākonga already has support. The provider or the Ministry’s Central Investigations Team (CIT) will link your request to it and contact your school.</p>}
      {kase && (
        <>
          <h2>Who will support the ākonga</h2>
          {kase.providerId ? (
            <p data-testid="allocated-provider">
              The case has been allocated to {isp ? 'your In-School Provision' : 'the catchment Attendance Service provider'}: <strong><ProviderName id={kase.providerId} /></strong>. Status: {STATUS_LABEL[kase.status]}.
            </p>
          ) : (
            <Notice>The case is being allocated to a provider. This usually takes a few seconds.</Notice>
          )}
          <h2>What happens next</h2>
          <ol>
            <li>The provider assigns a Case Manager to the case.</li>
            <li>The Case Manager arranges a meeting with your school, usually within 5 working days. Please work with them to schedule it promptly.</li>
            <li>The Case Manager meets the ākonga and their whānau within 10 working days of your request.</li>
            <li>The School Primary Contact gets an email when the provider shares information or the case status changes.</li>
          </ol>
          <p>
            <Link href={`/cases/${kase.id}`}>View the case</Link>
          </p>
        </>
      )}
      <p>
        <Link href="/">Back to {me.role === 'school_primary_contact' ? 'your cases' : 'your school’s cases'}</Link>
      </p>
    </>
  );
}
