import { useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Me, type Problem, type Schemas } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, Radios, Select, TextArea, TextInput, errorsFor, fieldMessage, type SummaryItem } from '../components';
import { COMM_METHOD, DECISION_LABEL, ESCALATION_LABEL, STEP_LABEL, formatDate, isProvider, isSchool } from '../format';
import { todayNz } from './CaseActions';

type Escalation = Schemas['Escalation'];
type Kind = Schemas['EscalationKind'];

/** One form's field errors, summary and problem, keyed `<form>.<field>`. */
export function useFormErrors(form: string, labels: Record<string, string>) {
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const items: SummaryItem[] = [...errors].map(([f, m]) => ({ field: `${form}.${f}`, text: fieldMessage(labels[f] ?? f, m) }));
  return {
    items,
    problem,
    err: (f: string) => items.find((i) => i.field === `${form}.${f}`)?.text,
    show: (p: Problem) => {
      setErrors(errorsFor(p.errors));
      setProblem(p.errors?.length ? null : p);
    },
    clear: () => {
      setErrors(new Map());
      setProblem(null);
    },
  };
}

/** The side of whoever made an escalation. */
function madeBySchool(e: Escalation): boolean {
  return e.by.kind === 'user' && ['attendance_lead', 'school_primary_contact', 'office_support'].includes(e.by.role);
}

/**
 * Consultation before major steps, and escalations (issue 15). The provider checks in with the
 * school before moving a case into Transition and before each escalation; the school may itself
 * refer for prosecution or under section 19; the Prosecutions team decides on its referrals.
 */
export function Escalations({ me, kase, onDone }: { me: Me; kase: Case; onDone: () => void }) {
  const open = kase.status !== 'closed';
  const provider = isProvider(me) && kase.providerId === me.organisation.id;
  const school = isSchool(me) && me.role !== 'office_support';
  const consultations = kase.consultations ?? [];
  const escalations = kase.escalations ?? [];
  const [done, setDone] = useState<string | null>(null);
  const finished = (text: string) => {
    setDone(text);
    onDone();
  };
  return (
    <section aria-labelledby="escalations" className="panel">
      <h2 id="escalations">Consultations and escalations</h2>
      <p className="hint">Each step is shown to the school on the timeline; the provider’s notes and outcomes stay with the provider and the Ministry.</p>
      {done && <Notice>{done}</Notice>}
      <h3>Consultations with the school</h3>
      {consultations.length === 0 ? (
        <p>No consultations recorded.</p>
      ) : (
        <ul aria-label="Consultations with the school">
          {consultations.map((c) => (
            <li key={c.id}>
              <strong>{STEP_LABEL[c.about] ?? c.about}</strong> on {formatDate(c.heldOn)} — {c.used ? 'step taken' : 'step not yet taken'}
              {c.notes && <span className="tl-text">: {c.notes}</span>}
            </li>
          ))}
        </ul>
      )}
      <h3>Escalations</h3>
      {escalations.length === 0 ? (
        <p>No escalations.</p>
      ) : (
        <ul aria-label="Escalations">
          {escalations.map((e) => (
            <li key={e.id}>
              <strong>{ESCALATION_LABEL[e.kind] ?? e.kind}</strong> on {formatDate(e.on)}
              {e.method && ` (${COMM_METHOD[e.method] ?? e.method})`}
              {e.forumPilot && ' — pilot catchment'}
              {e.decision && ` — ${DECISION_LABEL[e.decision]}`}
              {e.outcome && <p className="tl-text">Outcome: {e.outcome}</p>}
              {open && <Outcome me={me} kase={kase} e={e} provider={provider} school={school} onDone={finished} />}
            </li>
          ))}
        </ul>
      )}
      {open && provider && <Consult kase={kase} onDone={finished} />}
      {open && (provider || school) && <Escalate kase={kase} provider={provider} onDone={finished} />}
    </section>
  );
}

function Consult({ kase, onDone }: { kase: Case; onDone: (text: string) => void }) {
  const [about, setAbout] = useState<string>('transition');
  const [heldOn, setHeldOn] = useState(todayNz());
  const [notes, setNotes] = useState('');
  const f = useFormErrors('consult', { about: 'Step', heldOn: 'Date of the consultation', notes: 'Notes' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['ConsultationRequest'] = { about: about as Schemas['Step'], heldOn, notes: notes.trim() || undefined };
    const { error, response } = await (await api()).POST('/cases/{id}/consultations', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setNotes('');
    onDone(`Consultation recorded: ${STEP_LABEL[about]}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="consult-heading">
      <h3 id="consult-heading">Record a consultation with the school</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="consult.about" label="Before which step" value={about} onChange={setAbout} error={f.err('about')} options={Object.entries(STEP_LABEL) as [string, string][]} />
      <TextInput path="consult.heldOn" label="Date of the consultation" hint="Year, month and day, for example 2026-12-02" className="w-10" value={heldOn} onChange={setHeldOn} error={f.err('heldOn')} />
      <TextArea path="consult.notes" label="Notes (not shown to the school)" value={notes} onChange={setNotes} error={f.err('notes')} rows={2} />
      <button type="submit" className="button">
        Record the consultation
      </button>
    </form>
  );
}

function Escalate({ kase, provider, onDone }: { kase: Case; provider: boolean; onDone: (text: string) => void }) {
  const kinds: Kind[] = provider ? ['formal_communication', 'prosecution_referral', 'section_19', 'multi_agency_forum'] : ['prosecution_referral', 'section_19'];
  const [kind, setKind] = useState<Kind>(kinds[0]);
  const [on, setOn] = useState(todayNz());
  const [method, setMethod] = useState('letter');
  const [told, setTold] = useState(todayNz());
  const [notes, setNotes] = useState('');
  const f = useFormErrors('escalate', { kind: 'Step', on: 'Date', method: 'How it was sent', regionalOfficeToldOn: 'Date the regional office was told', notes: 'Notes' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['EscalationRequest'] = { kind, on, notes: notes.trim() || undefined };
    if (kind === 'formal_communication') body.method = method as Schemas['CommMethod'];
    if (provider && kind === 'prosecution_referral') body.regionalOfficeToldOn = told;
    const { error, response } = await (await api()).POST('/cases/{id}/escalations', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setNotes('');
    onDone(`Recorded: ${ESCALATION_LABEL[kind]}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="escalate-heading">
      <h3 id="escalate-heading">Escalate</h3>
      {provider && <p className="hint">Consult the school about the step first. A prosecution referral needs a formal communication to the caregivers first.</p>}
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="escalate.kind" label="Step" value={kind} onChange={(v) => setKind(v as Kind)} error={f.err('kind')} options={kinds.map((k) => [k, ESCALATION_LABEL[k]])} />
      <TextInput path="escalate.on" label="Date" hint="When it was sent or made, for example 2026-12-02" className="w-10" value={on} onChange={setOn} error={f.err('on')} />
      {kind === 'formal_communication' && (
        <Select path="escalate.method" label="How it was sent" value={method} onChange={setMethod} error={f.err('method')} options={Object.entries(COMM_METHOD) as [string, string][]} />
      )}
      {provider && kind === 'prosecution_referral' && (
        <TextInput path="escalate.regionalOfficeToldOn" label="Date the regional office was told" className="w-10" value={told} onChange={setTold} error={f.err('regionalOfficeToldOn')} />
      )}
      <TextArea path="escalate.notes" label="Notes" value={notes} onChange={setNotes} error={f.err('notes')} rows={2} />
      <button type="submit" className="button">
        Record the step
      </button>
    </form>
  );
}

/** The Prosecutions team's decision and outcome on a referral; the side that made another escalation records its outcome. */
function Outcome({ me, kase, e, provider, school, onDone }: { me: Me; kase: Case; e: Escalation; provider: boolean; school: boolean; onDone: (text: string) => void }) {
  const prosecution = e.kind === 'prosecution_referral';
  const mine = prosecution ? me.role === 'prosecutions' : madeBySchool(e) ? school : provider;
  const [decision, setDecision] = useState('');
  const [outcome, setOutcome] = useState('');
  const form = `outcome-${e.id}`;
  const f = useFormErrors(form, { decision: 'Decision', outcome: 'Outcome' });
  if (!mine) return null;
  const deciding = prosecution && !e.decision;
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['EscalationOutcomeRequest'] = { outcome: outcome.trim() || undefined };
    if (deciding && decision) body.decision = decision as Schemas['ProsecutionDecision'];
    const { error, response } = await (await api()).PUT('/cases/{id}/escalations/{escalationId}', { params: { path: { id: kase.id, escalationId: e.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setOutcome('');
    onDone(`${ESCALATION_LABEL[e.kind]}: ${deciding && decision ? DECISION_LABEL[decision].toLowerCase() : 'outcome recorded'}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Outcome of the ${ESCALATION_LABEL[e.kind].toLowerCase()} of ${formatDate(e.on)}`}>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      {deciding && <Radios path={`${form}.decision`} legend="Decision on the referral" value={decision} onChange={setDecision} error={f.err('decision')} options={Object.entries(DECISION_LABEL) as [string, string][]} />}
      <TextArea path={`${form}.outcome`} label="Outcome" value={outcome} onChange={setOutcome} error={f.err('outcome')} rows={2} />
      <button type="submit" className="button secondary">
        {deciding ? 'Record the decision' : 'Record the outcome'}
      </button>
    </form>
  );
}
