import { useEffect, useState, type FormEvent } from 'react';
import { api, asProblem, type CaseSummary, type Me, type Schemas } from '../api/client';
import { Checkbox, ErrorSummary, Notice, ProblemBanner, Select, TextArea } from '../components';
import { provider } from '../directory';
import { useFormErrors } from './Escalations';

type Result = Schemas['ReassignResult'];

/**
 * Bulk reassignment (issue 15): when a Case Manager leaves or is away, the provider admin moves
 * all or some of their open cases to another Case Manager in one go, with a reason. The new Case
 * Manager gets one email for the lot.
 */
export function Reassign({ me, cases, onDone }: { me: Me; cases: CaseSummary[]; onDone: () => void }) {
  const [managers, setManagers] = useState<Schemas['StaffMember'][]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [which, setWhich] = useState<'all' | 'some'>('all');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<{ r: Result; to: string } | null>(null);
  const f = useFormErrors('reassign', { fromUserId: 'Cases of', toUserId: 'Move them to', caseIds: 'Cases to move', reason: 'Reason' });
  useEffect(() => {
    if (!me.organisation.id) return;
    void provider(me.organisation.id).then((p) => setManagers((p?.staff ?? []).filter((m) => m.role === 'case_manager')));
  }, [me.organisation.id]);
  const name = (id: string) => managers.find((m) => m.userId === id)?.displayName ?? id;
  const theirs = cases.filter((c) => c.caseManager === from && c.status !== 'closed');
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setResult(null);
    const body: Schemas['ReassignRequest'] = { fromUserId: from, toUserId: to, reason, caseIds: which === 'some' ? [...picked] : undefined };
    const { data, error, response } = await (await api()).POST('/providers/{id}/reassignments', { params: { path: { id: me.organisation.id ?? '' } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setPicked(new Set());
    setReason('');
    setResult({ r: data, to });
    onDone();
  };
  const options = (except?: string): [string, string][] => [['', 'Choose a Case Manager'], ...managers.filter((m) => m.userId !== except).map((m) => [m.userId, m.displayName ?? m.userId] as [string, string])];
  return (
    <section aria-labelledby="reassign" className="panel">
      <h2 id="reassign">Reassign a Case Manager’s cases</h2>
      <p className="hint">When a Case Manager leaves or is away. Each case is moved and recorded on its own; the new Case Manager gets one email.</p>
      {result && (
        <Notice>
          {result.r.moved.length === 1 ? '1 case' : `${result.r.moved.length} cases`} moved to {name(result.to)}.
          {result.r.skipped.length > 0 && ` ${result.r.skipped.length} not moved: ${result.r.skipped.map((s) => `${s.caseId} (${s.reason})`).join('; ')}`}
          {result.r.remaining > 0 && ` ${result.r.remaining} more are waiting: reassign again to move them.`}
        </Notice>
      )}
      <form onSubmit={submit} noValidate aria-labelledby="reassign">
        <ErrorSummary items={f.items} />
        <ProblemBanner problem={f.problem} />
        <Select path="reassign.fromUserId" label="Cases of" value={from} onChange={setFrom} error={f.err('fromUserId')} options={options()} />
        <Select path="reassign.toUserId" label="Move them to" value={to} onChange={setTo} error={f.err('toUserId')} options={options(from)} />
        <fieldset>
          <legend>Cases to move</legend>
          <div className="radio">
            <input type="radio" id="reassign-all" name="reassign-which" checked={which === 'all'} onChange={() => setWhich('all')} />
            <label htmlFor="reassign-all">All their open cases{from ? ` (${theirs.length})` : ''}</label>
          </div>
          <div className="radio">
            <input type="radio" id="reassign-some" name="reassign-which" checked={which === 'some'} onChange={() => setWhich('some')} />
            <label htmlFor="reassign-some">Only the cases I choose</label>
          </div>
          {which === 'some' &&
            (theirs.length === 0 ? (
              <p>{from ? 'This Case Manager has no open cases.' : 'Choose whose cases first.'}</p>
            ) : (
              theirs.map((c) => (
                <Checkbox
                  key={c.id}
                  id={`reassign-case-${c.id}`}
                  label={c.student.fullName}
                  checked={picked.has(c.id)}
                  onChange={(v) => {
                    const next = new Set(picked);
                    if (v) next.add(c.id);
                    else next.delete(c.id);
                    setPicked(next);
                  }}
                />
              ))
            ))}
          {f.err('caseIds') && <p className="error-message">{f.err('caseIds')}</p>}
        </fieldset>
        <TextArea path="reassign.reason" label="Reason" hint="For example, on leave until the end of term. Shown on each case’s timeline, to the school too." value={reason} onChange={setReason} error={f.err('reason')} rows={2} />
        <button type="submit" className="button">
          Reassign the cases
        </button>
      </form>
    </section>
  );
}
