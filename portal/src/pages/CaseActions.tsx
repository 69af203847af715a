import { useEffect, useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Me, type Problem, type Schemas } from '../api/client';
import { Checkbox, ErrorSummary, Notice, ProblemBanner, Radios, Select, TextArea, TextInput, errorsFor, fieldMessage, type SummaryItem } from '../components';
import { ACTIVITY_LABEL, BARRIER_LABEL, BARRIER_STATE, CLOSE_REASON, STATUS_LABEL, formatDate } from '../format';
import { provider } from '../directory';

type Action = Schemas['UpdateStatusRequest']['action'];
type Attestation = Required<Schemas['PauseAttestation']>;

const ACTIONS: Record<Action, string> = {
  assign: 'Assign a Case Manager',
  transition: 'Move to Transition',
  close: 'Close the case',
  pause: 'Pause the case (child under six, withdrawn)',
  reopen: 'Reopen the case',
};

function actionsFor(status: Case['status']): Action[] {
  switch (status) {
    case 'provider_queue':
      return ['assign'];
    case 'open':
      return ['assign', 'transition', 'close', 'pause'];
    case 'transition':
      return ['close', 'reopen'];
    case 'paused':
      return ['reopen'];
    default:
      return [];
  }
}

const ATTESTATIONS: [keyof Attestation, string][] = [
  ['childLocated', 'The child has been located'],
  ['whanauContacted', 'The whānau have been contacted'],
  ['safeAndInformedChoice', 'The child is safe, and the whānau made an informed choice'],
  ['withdrawnFromSchool', 'The child has been withdrawn from school'],
];

/** The conflict message: the change was not made, the case as it is now is shown, the form kept. */
function conflict(p: Problem, current: Case | undefined): Problem {
  return {
    ...p,
    title: 'Someone else changed this case',
    detail: `The case changed while you were working on it${current ? ` (it is now ${STATUS_LABEL[current.status]})` : ''}. Your change was not made. The page now shows the case as it is; your choices are still in the form, so check them and try again.`,
  };
}

export function ProviderActions({ me, kase, onChanged }: { me: Me; kase: Case; onChanged: (c: Case) => void }) {
  const available = actionsFor(kase.status);
  const [action, setAction] = useState<string>(available[0] ?? '');
  const [caseManagerId, setCm] = useState(me.role === 'case_manager' ? me.userId : '');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [att, setAtt] = useState<Attestation>({ childLocated: false, whanauContacted: false, safeAndInformedChoice: false, withdrawnFromSchool: false });
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // the provider's Case Managers (GET /providers/{id}), for the provider admin's choice
  const [managers, setManagers] = useState<Schemas['StaffMember'][] | null>(me.role === 'provider_admin' ? null : []);
  useEffect(() => {
    if (me.role !== 'provider_admin' || !me.organisation.id) return;
    void provider(me.organisation.id).then((p) => setManagers((p?.staff ?? []).filter((m) => m.role === 'case_manager')));
  }, [me.role, me.organisation.id]);
  if (!available.length && !problem) return null;
  const shown = available.includes(action as Action) || !action ? available : [...available, action as Action];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const local = new Map<string, string>();
    if (!action) local.set('action', 'Choose what you want to do');
    if (action === 'assign' && !caseManagerId.trim()) local.set('caseManagerId', 'Choose the Case Manager');
    if (action === 'close' && !reason) local.set('reason', 'Choose why the case is closing');
    setErrors(local);
    if (local.size) return;
    setBusy(true);
    try {
      const body: Schemas['UpdateStatusRequest'] = { action: action as Action };
      if (action === 'assign') body.caseManagerId = caseManagerId.trim();
      if (action === 'close') body.reason = reason as Schemas['UpdateStatusRequest']['reason'];
      if (action === 'pause') body.attestation = att;
      if (note.trim()) body.note = note;
      const { data, error, response } = await (await api()).POST('/cases/{id}/status', {
        params: { path: { id: kase.id }, header: { 'If-Match': `"${kase.version}"` } },
        body,
      });
      if (error || !data) {
        const p = asProblem(error, response.status);
        const current = p.current as Case | undefined;
        // someone else changed the case meanwhile (a refusal on the case as the user sees it,
        // such as a missing consultation, is shown as it is)
        if (response.status === 412 || (response.status === 409 && current?.version !== kase.version)) {
          setProblem(conflict(p, current));
          if (current && 'status' in current) onChanged(current);
          return;
        }
        setErrors(new Map([...errorsFor(p.errors)].map(([f, m]) => [f.startsWith('attestation') ? 'attestation' : f, m])));
        setProblem(p.errors?.length ? null : p);
        return;
      }
      setProblem(null);
      setNote('');
      setDone(`Done: ${ACTIONS[action as Action].toLowerCase()}. The case is now ${STATUS_LABEL[data.status]}.`);
      onChanged(data);
      setAction(actionsFor(data.status)[0] ?? '');
    } finally {
      setBusy(false);
    }
  };

  const LBL: Record<string, string> = { action: 'Action', caseManagerId: 'Case Manager', reason: 'Reason for closing', attestation: 'Pause conditions', note: 'Note' };
  const items: SummaryItem[] = [...errors].map(([f, m]) => ({ field: `status.${f}`, text: fieldMessage(LBL[f] ?? f, m) }));
  const err = (f: string) => items.find((i) => i.field === `status.${f}`)?.text;
  return (
    <section aria-labelledby="status-actions" className="panel">
      <h2 id="status-actions">Work the case</h2>
      <ErrorSummary items={items} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      <form onSubmit={submit} noValidate>
        <Radios path="status.action" legend="What do you want to do?" value={action} onChange={setAction} error={err('action')} options={shown.map((a) => [a, ACTIONS[a]])} />
        {action === 'assign' && me.role === 'case_manager' && <p>The case will be assigned to you. A Case Manager may assign only themselves.</p>}
        {action === 'assign' && me.role !== 'case_manager' && managers === null && <p role="status">Loading your Case Managers…</p>}
        {action === 'assign' && me.role !== 'case_manager' && managers !== null && managers.length > 0 && (
          <Select
            path="status.caseManagerId"
            label="Case Manager"
            className="w-20"
            value={caseManagerId}
            onChange={setCm}
            error={err('caseManagerId')}
            options={[['', 'Choose a Case Manager'], ...managers.map((m) => [m.userId, m.displayName] as [string, string])]}
          />
        )}
        {action === 'assign' && me.role !== 'case_manager' && managers !== null && managers.length === 0 && (
          <TextInput path="status.caseManagerId" label="Case Manager" hint="The user id of a Case Manager at your provider, for example cm-p01." className="w-20" value={caseManagerId} onChange={setCm} error={err('caseManagerId')} />
        )}
        {action === 'close' && (
          <Radios
            path="status.reason"
            legend="Why is the case closing?"
            hint="Turning 16 is never on its own a reason to close a case."
            value={reason}
            onChange={setReason}
            error={err('reason')}
            options={(['attending_regularly', 'engaged_with_school_support', 'chose_not_to_continue'] as const).map((r) => [r, CLOSE_REASON[r]])}
          />
        )}
        {action === 'pause' && (
          <fieldset className={`field${err('attestation') ? ' field-error' : ''}`}>
            <legend>Confirm all four conditions</legend>
            {err('attestation') && <p className="error-message">{err('attestation')}</p>}
            {ATTESTATIONS.map(([k, l], i) => (
              <Checkbox key={k} id={i === 0 ? 'f-status-attestation' : `att-${k}`} label={l} checked={att[k]} onChange={(v) => setAtt((a) => ({ ...a, [k]: v }))} />
            ))}
          </fieldset>
        )}
        {action && <TextArea path="status.note" label="Note (optional, not shown to the school)" value={note} onChange={setNote} rows={2} />}
        <button type="submit" className="button" disabled={busy}>
          Save the change
        </button>
      </form>
    </section>
  );
}

export function todayNz(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(new Date());
}

export function RecordActivity({ kase, onDone }: { kase: Case; onDone: () => void }) {
  const [type, setType] = useState('school_meeting');
  const [date, setDate] = useState(todayNz());
  const [attendees, setAttendees] = useState('');
  const [notes, setNotes] = useState('');
  const [shared, setShared] = useState(false);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const body: Schemas['ActivityRequest'] = {
      type: type as Schemas['ActivityRequest']['type'],
      date,
      attendees: attendees.split('\n').map((a) => a.trim()).filter(Boolean),
      notes: notes || undefined,
      shared,
    };
    const { error, response } = await (await api()).POST('/cases/{id}/activities', { params: { path: { id: kase.id } }, body });
    if (error) {
      const p = asProblem(error, response.status);
      setErrors(errorsFor(p.errors));
      setProblem(p.errors?.length ? null : p);
      return;
    }
    setErrors(new Map());
    setProblem(null);
    setNotes('');
    setAttendees('');
    setDone(`${ACTIVITY_LABEL[type]} recorded.`);
    onDone();
  };
  const LBL: Record<string, string> = { type: 'Type', date: 'Date', attendees: 'Attendees', notes: 'Notes' };
  const items: SummaryItem[] = [...errors].map(([f, m]) => ({ field: `activity.${f.replace(/\[\d+\]$/, '')}`, text: fieldMessage(LBL[f.replace(/\[\d+\]$/, '')] ?? f, m) }));
  const err = (f: string) => items.find((i) => i.field === `activity.${f}`)?.text;
  return (
    <section aria-labelledby="record-activity" className="panel">
      <h2 id="record-activity">Record a meeting or call</h2>
      <p className="hint">A meeting with the school, or with the ākonga and whānau, stops its service-level clock.</p>
      <ErrorSummary items={items} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      <form onSubmit={submit} noValidate>
        <Select path="activity.type" label="What happened" value={type} onChange={setType} error={err('type')} options={Object.entries(ACTIVITY_LABEL) as [string, string][]} />
        <TextInput path="activity.date" label="Date" hint="Year, month and day, for example 2026-12-02" className="w-10" value={date} onChange={setDate} error={err('date')} />
        <TextArea path="activity.attendees" label="Who attended (optional)" hint="One person per line." value={attendees} onChange={setAttendees} error={err('attendees')} rows={2} />
        <TextArea path="activity.notes" label="Notes (optional)" value={notes} onChange={setNotes} error={err('notes')} rows={3} />
        <Checkbox id="activity-shared" label="Share with the school" checked={shared} onChange={setShared} />
        <button type="submit" className="button">
          Record it
        </button>
      </form>
    </section>
  );
}

type Barrier = Schemas['Barrier'];

/** The next states a barrier may move to (forward only). */
function nextStates(b: Barrier): ('being_addressed' | 'resolved')[] {
  return b.state === 'identified' ? ['being_addressed', 'resolved'] : b.state === 'being_addressed' ? ['resolved'] : [];
}

/** Barriers to attendance: the provider identifies them and moves them forward; the school never sees them. */
export function Barriers({ kase, canRecord, onDone }: { kase: Case; canRecord: boolean; onDone: () => void }) {
  const [kind, setKind] = useState('housing_instability');
  const [detail, setDetail] = useState('');
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const barriers = kase.barriers ?? [];
  const show = (p: Problem) => {
    setErrors(errorsFor(p.errors));
    setProblem(p.errors?.length ? null : p);
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const body: Schemas['BarrierRequest'] = { kind: kind as Schemas['BarrierKind'], detail: detail.trim() || undefined };
    const { error, response } = await (await api()).POST('/cases/{id}/barriers', { params: { path: { id: kase.id } }, body });
    if (error) return show(asProblem(error, response.status));
    setErrors(new Map());
    setProblem(null);
    setDetail('');
    setDone(`Barrier recorded: ${BARRIER_LABEL[kind]}.`);
    onDone();
  };
  const move = async (b: Barrier, state: 'being_addressed' | 'resolved') => {
    setDone(null);
    const { error, response } = await (await api()).PUT('/cases/{id}/barriers/{barrierId}', {
      params: { path: { id: kase.id, barrierId: b.id } },
      body: { state },
    });
    if (error) return show(asProblem(error, response.status));
    setProblem(null);
    setDone(`${BARRIER_LABEL[b.kind]}: now ${BARRIER_STATE[state].toLowerCase()}.`);
    onDone();
  };
  const LBL: Record<string, string> = { kind: 'Barrier', detail: 'Description' };
  const items: SummaryItem[] = [...errors].map(([f, m]) => ({ field: `barrier.${f}`, text: fieldMessage(LBL[f] ?? f, m) }));
  const err = (f: string) => items.find((i) => i.field === `barrier.${f}`)?.text;
  return (
    <section aria-labelledby="barriers" className="panel">
      <h2 id="barriers">Barriers to attendance</h2>
      <p className="hint">Seen by the provider and the Ministry only; never shared with the school.</p>
      <ErrorSummary items={items} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      {barriers.length === 0 ? (
        <p>No barriers recorded yet.</p>
      ) : (
        <ul className="barrier-list" aria-label="Barriers recorded">
          {barriers.map((b) => (
            <li key={b.id}>
              <strong>{BARRIER_LABEL[b.kind] ?? b.kind}</strong>
              {b.detail ? `: ${b.detail}` : ''} — <span className="barrier-state">{BARRIER_STATE[b.state]}</span>
              <span className="hint"> (identified {formatDate(b.identifiedAt)})</span>
              {canRecord &&
                nextStates(b).map((s) => (
                  <button key={s} type="button" className="button secondary" onClick={() => void move(b, s)}>
                    {`Mark ${BARRIER_LABEL[b.kind] ?? b.kind} as ${BARRIER_STATE[s].toLowerCase()}`}
                  </button>
                ))}
            </li>
          ))}
        </ul>
      )}
      {canRecord && (
        <form onSubmit={add} noValidate>
          <Select path="barrier.kind" label="Barrier" value={kind} onChange={setKind} error={err('kind')} options={Object.entries(BARRIER_LABEL) as [string, string][]} />
          <TextArea path="barrier.detail" label="Description (required for Other)" value={detail} onChange={setDetail} error={err('detail')} rows={2} />
          <button type="submit" className="button">
            Record the barrier
          </button>
        </form>
      )}
    </section>
  );
}

export function CitActions({ kase, onChanged }: { kase: Case; onChanged: (c: Case) => void }) {
  const [suggestion, setSuggestion] = useState<Schemas['AllocationSuggestion'] | null>(null);
  const [choice, setChoice] = useState('suggested');
  const [providerId, setProviderId] = useState('');
  const [closeReason, setCloseReason] = useState('');
  const [transferTo, setTransferTo] = useState('');
  const [transferReason, setTransferReason] = useState('');
  const [errors, setErrors] = useState<SummaryItem[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const review = kase.status === 'cit_review';
  const active = ['provider_queue', 'open', 'transition', 'paused'].includes(kase.status);

  useEffect(() => {
    if (!review) return;
    void (async () => {
      const { data } = await (await api()).GET('/cases/{id}/allocation', { params: { path: { id: kase.id } } });
      if (data) {
        setSuggestion(data);
        if (!data.suggestedProviderId) setChoice('other');
      }
    })();
  }, [kase.id, review]);

  if (!review && !active) return null;

  const answer = (what: string, r: { data?: Case; error?: unknown; response: Response }, field: string) => {
    if (r.error || !r.data) {
      const p = asProblem(r.error, r.response.status);
      if (r.response.status === 409) {
        const current = p.current as Case | undefined;
        setProblem(conflict(p, current));
        if (current && 'status' in current) onChanged(current);
      } else if (p.errors?.length) {
        setErrors(p.errors.map((e) => ({ field, text: fieldMessage(e.field, e.message) })));
        setProblem(null);
      } else setProblem(p);
      return;
    }
    setErrors([]);
    setProblem(null);
    setDone(`${what}. The case is now ${STATUS_LABEL[r.data.status]}${r.data.providerId ? ` with provider ${r.data.providerId}` : ''}.`);
    onChanged(r.data);
  };

  const allocate = async (e: FormEvent) => {
    e.preventDefault();
    if (choice === 'other' && !providerId.trim()) return setErrors([{ field: 'cit.providerId', text: 'Enter the provider id, for example P01' }]);
    const body = { version: kase.version, ...(choice === 'other' ? { providerId: providerId.trim() } : { providerId: suggestion?.suggestedProviderId ?? undefined }) };
    answer('Allocated', await (await api()).POST('/cases/{id}/allocation', { params: { path: { id: kase.id } }, body }), 'cit.providerId');
  };
  const close = async (e: FormEvent) => {
    e.preventDefault();
    if (!closeReason.trim()) return setErrors([{ field: 'cit.closeReason', text: 'Enter why the NEN needs no provider' }]);
    answer('Closed', await (await api()).POST('/cases/{id}/close', { params: { path: { id: kase.id } }, body: { reason: closeReason, version: kase.version } }), 'cit.closeReason');
  };
  const transfer = async (e: FormEvent) => {
    e.preventDefault();
    const errs: SummaryItem[] = [];
    if (!transferTo.trim()) errs.push({ field: 'cit.transferTo', text: 'Enter the provider to transfer to' });
    if (!transferReason.trim()) errs.push({ field: 'cit.transferReason', text: 'Enter why the case is moving' });
    if (errs.length) return setErrors(errs);
    answer('Transferred', await (await api()).POST('/cases/{id}/transfer', { params: { path: { id: kase.id } }, body: { providerId: transferTo.trim(), reason: transferReason, version: kase.version } }), 'cit.transferTo');
  };
  const err = (f: string) => errors.find((x) => x.field === f)?.text;
  return (
    <section aria-labelledby="cit-actions" className="panel">
      <h2 id="cit-actions">{review ? 'Review this NEN' : 'Transfer to another provider'}</h2>
      <ErrorSummary items={errors} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      {review && (
        <>
          <form onSubmit={allocate} noValidate>
            <h3>Allocate to a provider</h3>
            {suggestion && <p data-testid="suggestion">{suggestion.suggestedProviderId ? `Suggested by the ākonga’s address (${suggestion.matchedLocality ?? ''}): ${suggestion.suggestedProviderName ?? ''} (${suggestion.suggestedProviderId}).` : (suggestion.message ?? 'No provider matches the address.')}</p>}
            <Radios
              path="cit.choice"
              legend="Which provider?"
              value={choice}
              onChange={setChoice}
              options={[...(suggestion?.suggestedProviderId ? [['suggested', `The suggested provider, ${suggestion.suggestedProviderName ?? suggestion.suggestedProviderId}`] as [string, string]] : []), ['other', 'Another provider']]}
            />
            {choice === 'other' && <TextInput path="cit.providerId" label="Provider id" className="w-10" value={providerId} onChange={setProviderId} error={err('cit.providerId')} />}
            <button type="submit" className="button">
              Allocate
            </button>
          </form>
          <form onSubmit={close} noValidate>
            <h3>Close the NEN</h3>
            <TextArea path="cit.closeReason" label="Why does this NEN need no provider?" hint="For example: enrolled at another school, or left New Zealand." value={closeReason} onChange={setCloseReason} error={err('cit.closeReason')} rows={2} />
            <button type="submit" className="button secondary">
              Close the NEN
            </button>
          </form>
        </>
      )}
      {active && (
        <form onSubmit={transfer} noValidate>
          <p>The case goes to the new provider’s queue; the current provider loses access. The history moves with the case.</p>
          <TextInput path="cit.transferTo" label="Transfer to provider" hint="The provider id, for example P08." className="w-10" value={transferTo} onChange={setTransferTo} error={err('cit.transferTo')} />
          <TextArea path="cit.transferReason" label="Reason for the transfer" value={transferReason} onChange={setTransferReason} error={err('cit.transferReason')} rows={2} />
          <button type="submit" className="button secondary">
            Transfer the case
          </button>
        </form>
      )}
    </section>
  );
}
