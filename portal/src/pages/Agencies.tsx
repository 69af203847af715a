import { useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Me, type Schemas } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, Select, TextArea, TextInput } from '../components';
import { AGENCY_LABEL, formatDate, formatDateTime } from '../format';
import { todayNz } from './CaseActions';
import { useFormErrors } from './Escalations';

type Check = Schemas['AgencyCheck'];

/**
 * Other agencies engaged on the case (the provider records them; the school never sees them) and
 * CIT's information checks with them (asked by the provider or CIT, answered by CIT; seen by CIT
 * and the case's provider only).
 */
export function Agencies({ me, kase, provider, onDone }: { me: Me; kase: Case; provider: boolean; onDone: () => void }) {
  const open = kase.status !== 'closed';
  const cit = me.role === 'cit';
  const agencies = kase.agencies ?? [];
  const checks = kase.agencyChecks ?? [];
  const [done, setDone] = useState<string | null>(null);
  const finished = (text: string) => {
    setDone(text);
    onDone();
  };
  return (
    <section aria-labelledby="agencies" className="panel">
      <h2 id="agencies">Other agencies</h2>
      <p className="hint">Seen by the provider and the Ministry only; never shared with the school.</p>
      {done && <Notice>{done}</Notice>}
      {agencies.length === 0 ? (
        <p>No other agencies recorded.</p>
      ) : (
        <ul aria-label="Agencies engaged">
          {agencies.map((a) => (
            <li key={a.id}>
              <strong>{AGENCY_LABEL[a.agency] ?? a.agency}</strong>
              {a.detail ? `: ${a.detail}` : ''} <span className="hint">(since {formatDate(a.since)})</span>
            </li>
          ))}
        </ul>
      )}
      {open && provider && <Engage kase={kase} onDone={finished} />}
      {(provider || cit) && (
        <>
          <h3>Agency checks</h3>
          <p className="hint">Information checks with other agencies: seen by CIT and the case’s provider only.</p>
          {checks.length === 0 ? (
            <p>No agency checks.</p>
          ) : (
            <ul aria-label="Agency checks">
              {checks.map((c) => (
                <li key={c.id}>
                  <strong>{AGENCY_LABEL[c.agency] ?? c.agency}</strong>
                  {c.question ? `: ${c.question}` : ''} <span className="hint">(asked {formatDateTime(c.requestedAt)})</span>
                  {c.result ? <p className="tl-text">Result: {c.result}</p> : <p>Waiting for CIT.</p>}
                  {open && cit && !c.result && <Answer kase={kase} check={c} onDone={finished} />}
                </li>
              ))}
            </ul>
          )}
          {open && <Ask kase={kase} onDone={finished} />}
        </>
      )}
    </section>
  );
}

function Engage({ kase, onDone }: { kase: Case; onDone: (text: string) => void }) {
  const [agency, setAgency] = useState('oranga_tamariki');
  const [detail, setDetail] = useState('');
  const [since, setSince] = useState(todayNz());
  const f = useFormErrors('agency', { agency: 'Agency', detail: 'Service or name', since: 'Engaged since' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['AgencyRequest'] = { agency: agency as Schemas['Agency'], detail: detail.trim() || undefined, since };
    const { error, response } = await (await api()).POST('/cases/{id}/agencies', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setDetail('');
    onDone(`Agency recorded: ${AGENCY_LABEL[agency]}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="engage-heading">
      <h3 id="engage-heading">Record an agency engaged</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="agency.agency" label="Agency" value={agency} onChange={setAgency} error={f.err('agency')} options={Object.entries(AGENCY_LABEL) as [string, string][]} />
      <TextInput path="agency.detail" label="Service or name (required for Other)" value={detail} onChange={setDetail} error={f.err('detail')} />
      <TextInput path="agency.since" label="Engaged since" hint="Year, month and day, for example 2026-12-02" className="w-10" value={since} onChange={setSince} error={f.err('since')} />
      <button type="submit" className="button">
        Record the agency
      </button>
    </form>
  );
}

function Ask({ kase, onDone }: { kase: Case; onDone: (text: string) => void }) {
  const [agency, setAgency] = useState('police');
  const [question, setQuestion] = useState('');
  const f = useFormErrors('check', { agency: 'Agency', question: 'What to ask' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['AgencyCheckRequest'] = { agency: agency as Schemas['Agency'], question: question.trim() || undefined };
    const { error, response } = await (await api()).POST('/cases/{id}/agency-checks', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setQuestion('');
    onDone(`Agency check asked: ${AGENCY_LABEL[agency]}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="ask-heading">
      <h3 id="ask-heading">Ask for an agency check</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="check.agency" label="Agency to check with" value={agency} onChange={setAgency} error={f.err('agency')} options={Object.entries(AGENCY_LABEL) as [string, string][]} />
      <TextInput path="check.question" label="What to ask (required for Other)" value={question} onChange={setQuestion} error={f.err('question')} />
      <button type="submit" className="button secondary">
        Ask for the check
      </button>
    </form>
  );
}

function Answer({ kase, check, onDone }: { kase: Case; check: Check; onDone: (text: string) => void }) {
  const [result, setResult] = useState('');
  const form = `result-${check.id}`;
  const f = useFormErrors(form, { result: 'Result' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const { error, response } = await (await api()).PUT('/cases/{id}/agency-checks/{checkId}', { params: { path: { id: kase.id, checkId: check.id } }, body: { result } });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    onDone(`Result recorded: ${AGENCY_LABEL[check.agency]}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Result of the ${AGENCY_LABEL[check.agency] ?? check.agency} check`}>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <TextArea path={`${form}.result`} label="Result of the check" value={result} onChange={setResult} error={f.err('result')} rows={2} />
      <button type="submit" className="button secondary">
        Record the result
      </button>
    </form>
  );
}
