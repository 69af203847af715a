import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, asProblem, type FieldError, type Me, type Problem, type ReferralForm } from '../api/client';
import type { OutcomeState } from './Outcome';
import { ErrorSummary, Notice, ProblemBanner, Radios, Select, TextArea, TextInput, errorsFor, fieldMessage, type SummaryItem } from '../components';
import { Link, navigate } from '../router';

interface Whanau {
  name: string;
  relationship: string;
  phone: string;
  email: string;
}
interface Address {
  street: string;
  suburb: string;
  town: string;
  postcode: string;
}
interface FormState {
  fullName: string;
  dateOfBirth: string;
  nsn: string;
  yearLevel: string;
  international: string;
  validVisa: string;
  whanau: Whanau[];
  home: Address;
  alt: Address;
  reason: string;
  actionsTaken: string;
  absencePattern: string;
  primaryContactUserId: string;
  allocation: string;
}

const emptyWhanau = (): Whanau => ({ name: '', relationship: '', phone: '', email: '' });

/** Field labels by the API's field path (used in messages and the error summary). */
const LABELS: Record<string, string> = {
  student: 'Information about the ākonga',
  'student.fullName': 'Full name',
  'student.dateOfBirth': 'Date of birth',
  'student.nsn': 'National Student Number (NSN)',
  'student.yearLevel': 'Year level',
  'student.international': 'International student',
  'student.validVisa': 'Valid visa',
  whanau: 'Whānau',
  homeAddress: 'Home address',
  'homeAddress.street': 'Home address: street',
  'homeAddress.suburb': 'Home address: suburb',
  'homeAddress.town': 'Home address: town or city',
  'homeAddress.postcode': 'Home address: postcode',
  'alternativeAddress.street': 'Alternative address: street',
  'alternativeAddress.suburb': 'Alternative address: suburb',
  'alternativeAddress.town': 'Alternative address: town or city',
  'alternativeAddress.postcode': 'Alternative address: postcode',
  reason: 'Reason for the request',
  actionsTaken: 'Actions the school has taken',
  absencePattern: 'Absence pattern',
  primaryContactUserId: 'School Primary Contact',
  allocation: 'Who should support the ākonga',
};

function label(path: string): string {
  const w = /^whanau\[(\d+)\]\.?(\w*)$/.exec(path);
  if (w) {
    const part = { name: 'name', relationship: 'relationship', phone: 'phone', email: 'email', '': 'details' }[w[2]] ?? w[2];
    return `Whānau member ${Number(w[1]) + 1}: ${part}`;
  }
  return LABELS[path] ?? path;
}

/** Errors on a parent path (e.g. `homeAddress`) are shown on its first field. */
const ANCHOR: Record<string, string> = { student: 'student.fullName', homeAddress: 'homeAddress.street', whanau: 'whanau[0].name' };

function fromForm(f: ReferralForm | undefined, me: Me): FormState {
  const s = f?.student ?? {};
  const addr = (a?: ReferralForm['homeAddress']): Address => ({ street: a?.street ?? '', suburb: a?.suburb ?? '', town: a?.town ?? '', postcode: a?.postcode ?? '' });
  const canBeContact = me.role === 'attendance_lead' || me.role === 'school_primary_contact';
  return {
    fullName: s.fullName ?? '',
    dateOfBirth: s.dateOfBirth ?? '',
    nsn: s.nsn ?? '',
    yearLevel: s.yearLevel === undefined ? '' : String(s.yearLevel),
    international: s.international === undefined ? '' : s.international ? 'yes' : 'no',
    validVisa: s.validVisa === undefined ? '' : s.validVisa ? 'yes' : 'no',
    whanau: f?.whanau?.length ? f.whanau.map((w) => ({ name: w.name ?? '', relationship: w.relationship ?? '', phone: w.phone ?? '', email: w.email ?? '' })) : [emptyWhanau()],
    home: addr(f?.homeAddress),
    alt: addr(f?.alternativeAddress),
    reason: f?.reason ?? '',
    actionsTaken: f?.actionsTaken ?? '',
    absencePattern: f?.absencePattern ?? '',
    primaryContactUserId: f?.primaryContactUserId ?? (f ? '' : canBeContact ? me.userId : ''),
    allocation: f?.allocation ?? '',
  };
}

function toForm(s: FormState): ReferralForm {
  const addr = (a: Address) => (Object.values(a).some((v) => v.trim()) ? a : undefined);
  const yes = (v: string) => (v === '' ? undefined : v === 'yes');
  return {
    student: {
      fullName: s.fullName,
      dateOfBirth: s.dateOfBirth,
      nsn: s.nsn,
      yearLevel: s.yearLevel === '' ? undefined : Number(s.yearLevel),
      international: yes(s.international),
      validVisa: s.international === 'yes' ? yes(s.validVisa) : undefined,
    },
    whanau: s.whanau.filter((w) => Object.values(w).some((v) => v.trim())),
    homeAddress: addr(s.home),
    alternativeAddress: addr(s.alt),
    reason: s.reason,
    actionsTaken: s.actionsTaken,
    absencePattern: (s.absencePattern || undefined) as ReferralForm['absencePattern'],
    primaryContactUserId: s.primaryContactUserId,
    allocation: (s.allocation || undefined) as ReferralForm['allocation'],
  };
}

export function ReferralPage({ me, id }: { me: Me; id?: string }) {
  const [state, setState] = useState<FormState>(() => fromForm(undefined, me));
  const [version, setVersion] = useState<number | null>(null);
  const [refId, setRefId] = useState<string | undefined>(id);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [loading, setLoading] = useState(!!id);
  // no school lookup in the API yet: the ISP question appears once the API has said the school has
  // In-School Provision, and is remembered for the school in this browser
  const ispKey = `portal.isp.${me.organisation.id ?? ''}`;
  const [showIsp, setShowIspState] = useState(() => localStorage.getItem(ispKey) === '1');
  const setShowIsp = (v: boolean) => {
    if (v) localStorage.setItem(ispKey, '1');
    setShowIspState(v);
  };

  useEffect(() => {
    document.title = `${id ? 'Continue your CA request' : 'Start a CA request'} - Attendance Service Portal`;
    if (!id) return;
    void (async () => {
      const { data, error, response } = await (await api()).GET('/referrals/{id}', { params: { path: { id } } });
      setLoading(false);
      if (error || !data) return setProblem(asProblem(error, response.status));
      if (data.status === 'submitted') return navigate(`/requests/${id}/outcome`, null, true);
      setState(fromForm(data.form, me));
      setVersion(data.version);
      if (data.form.allocation) setShowIspState(true);
    })();
  }, [id, me]);

  const byField = useMemo(() => {
    const m = errorsFor(errors);
    for (const [parent, first] of Object.entries(ANCHOR)) {
      if (m.has(parent) && !m.has(first)) m.set(first, m.get(parent)!);
    }
    return m;
  }, [errors]);
  const err = (path: string) => {
    const m = byField.get(path);
    return m ? fieldMessage(label(path), m) : undefined;
  };
  const summary: SummaryItem[] = errors.map((e) => ({ field: ANCHOR[e.field] ?? e.field, text: fieldMessage(label(e.field), e.message) }));

  const set = <K extends keyof FormState>(k: K) => (v: FormState[K]) => setState((s) => ({ ...s, [k]: v }));
  const setW = (i: number, k: keyof Whanau) => (v: string) => setState((s) => ({ ...s, whanau: s.whanau.map((w, j) => (j === i ? { ...w, [k]: v } : w)) }));
  const setA = (which: 'home' | 'alt', k: keyof Address) => (v: string) => setState((s) => ({ ...s, [which]: { ...s[which], [k]: v } }));

  const fail = (p: Problem) => {
    setSaved(null);
    if (p.errors?.length) {
      setErrors(p.errors);
      setProblem(null);
      if (p.errors.some((e) => e.field === 'allocation' && /has In-School Provision/.test(e.message))) setShowIsp(true);
    } else {
      setErrors([]);
      setProblem(p);
    }
  };

  /** Save the draft (create it the first time); the new version, or null when refused. */
  const save = async (): Promise<{ id: string; version: number } | null> => {
    const c = await api();
    const form = toForm(state);
    if (!refId) {
      const { data, error, response } = await c.POST('/referrals', { body: { ...form, submit: false } });
      if (error || !data || !('form' in data)) {
        fail(asProblem(error, response.status));
        return null;
      }
      setRefId(data.id);
      setVersion(data.version);
      history.replaceState(null, '', `/requests/${data.id}`);
      return { id: data.id, version: data.version };
    }
    const { data, error, response } = await c.PUT('/referrals/{id}', { params: { path: { id: refId } }, body: { ...form, version: version ?? 0 } });
    if (error || !data) {
      const p = asProblem(error, response.status);
      if (response.status === 409) p.detail = `${p.detail ?? ''} Your changes are still on this page: copy anything you need, then reload the draft.`.trim();
      fail(p);
      return null;
    }
    setVersion(data.version);
    return { id: data.id, version: data.version };
  };

  const onSave = async () => {
    setBusy(true);
    try {
      const r = await save();
      if (r) {
        setErrors([]);
        setProblem(null);
        setSaved('Draft saved. You can come back to it from your home page.');
      }
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await save();
      if (!r) return;
      const { data, error, response } = await (await api()).POST('/referrals/{id}/submit', { params: { path: { id: r.id } }, body: { version: r.version } });
      if (error || !data) {
        const p = asProblem(error, response.status);
        const cur = p.current as { caseId?: string } | undefined;
        if (response.status === 409 && cur?.caseId) {
          p.detail = `${p.detail ?? ''}`;
          setProblem({ ...p, current: cur });
          setErrors([]);
          setSaved(null);
          return;
        }
        return fail(p);
      }
      // only ids and the outcome go into the browser's history, never the form
      navigate(`/requests/${r.id}/outcome`, { result: { caseId: data.caseId, caseStatus: data.caseStatus, outcome: data.outcome, message: data.message } satisfies OutcomeState });
    } finally {
      setBusy(false);
    }
  };

  const onDiscard = async () => {
    if (!refId) return navigate('/');
    if (!window.confirm('Discard this draft? It cannot be recovered.')) return;
    setBusy(true);
    try {
      const { error, response } = await (await api()).DELETE('/referrals/{id}', { params: { path: { id: refId }, query: version === null ? {} : { version } } });
      if (error) return fail(asProblem(error, response.status));
      navigate('/', { discarded: true });
    } finally {
      setBusy(false);
    }
  };

  const existing = (problem?.current as { caseId?: string } | undefined)?.caseId;
  const addr = (which: 'home' | 'alt', prefix: 'homeAddress' | 'alternativeAddress') => (
    <>
      <TextInput path={`${prefix}.street`} label="Street address" value={state[which].street} onChange={setA(which, 'street')} error={err(`${prefix}.street`)} autoComplete="off" />
      <TextInput path={`${prefix}.suburb`} label="Suburb (optional)" value={state[which].suburb} onChange={setA(which, 'suburb')} error={err(`${prefix}.suburb`)} />
      <TextInput path={`${prefix}.town`} label="Town or city" value={state[which].town} onChange={setA(which, 'town')} error={err(`${prefix}.town`)} />
      <TextInput path={`${prefix}.postcode`} label="Postcode" className="w-4" inputMode="numeric" value={state[which].postcode} onChange={setA(which, 'postcode')} error={err(`${prefix}.postcode`)} />
    </>
  );

  if (loading) return <p role="status">Loading your draft…</p>;
  return (
    <>
      <ErrorSummary items={summary} />
      <ProblemBanner problem={problem} />
      {existing && (
        <p>
          <Link href={`/cases/${existing}`}>Go to the ākonga’s current case</Link>
        </p>
      )}
      {saved && <Notice>{saved}</Notice>}
      <h1 tabIndex={-1}>{id || refId ? 'Continue your CA request' : 'Start a CA request'}</h1>
      <p className="lead">Ask Attendance Services to support an ākonga who is chronically absent. You can save the request as a draft and finish it later.</p>
      <form onSubmit={onSubmit} noValidate>
        <fieldset className="section">
          <legend>
            <h2>The ākonga</h2>
          </legend>
          <TextInput path="student.fullName" label="Full name" value={state.fullName} onChange={set('fullName')} error={err('student.fullName')} />
          <TextInput path="student.dateOfBirth" label="Date of birth" hint="Year, month and day, for example 2014-05-01" className="w-10" value={state.dateOfBirth} onChange={set('dateOfBirth')} error={err('student.dateOfBirth')} />
          <TextInput
            path="student.nsn"
            label="National Student Number (NSN)"
            hint="Up to 10 digits, from ENROL or your student management system. Needed to submit."
            className="w-10"
            inputMode="numeric"
            value={state.nsn}
            onChange={set('nsn')}
            error={err('student.nsn')}
          />
          <Select
            path="student.yearLevel"
            label="Year level"
            className="w-10"
            value={state.yearLevel}
            onChange={set('yearLevel')}
            error={err('student.yearLevel')}
            options={[['', 'Choose a year level'], ...Array.from({ length: 14 }, (_, i) => [String(i), `Year ${i}`] as [string, string])]}
          />
          <Radios path="student.international" legend="Is the ākonga an international student?" value={state.international} onChange={set('international')} error={err('student.international')} options={[['no', 'No'], ['yes', 'Yes']]} />
          {state.international === 'yes' && (
            <Radios path="student.validVisa" legend="Do they hold a valid visa?" value={state.validVisa} onChange={set('validVisa')} error={err('student.validVisa')} options={[['yes', 'Yes'], ['no', 'No']]} />
          )}
        </fieldset>

        <fieldset className="section">
          <legend>
            <h2>Whānau and caregivers</h2>
          </legend>
          <p className="hint">At least one parent, caregiver or whānau member, with a phone number or an email address.</p>
          {state.whanau.map((w, i) => (
            <fieldset key={i} className="subsection">
              <legend>Whānau member {i + 1}</legend>
              <TextInput path={`whanau[${i}].name`} label="Name" value={w.name} onChange={setW(i, 'name')} error={err(`whanau[${i}].name`) ?? (i === 0 ? err('whanau[0]') : err(`whanau[${i}]`))} />
              <TextInput path={`whanau[${i}].relationship`} label="Relationship to the ākonga (optional)" hint="For example mother, grandfather, aunty" value={w.relationship} onChange={setW(i, 'relationship')} error={err(`whanau[${i}].relationship`)} />
              <TextInput path={`whanau[${i}].phone`} label="Phone" type="tel" value={w.phone} onChange={setW(i, 'phone')} error={err(`whanau[${i}].phone`)} />
              <TextInput path={`whanau[${i}].email`} label="Email" type="email" value={w.email} onChange={setW(i, 'email')} error={err(`whanau[${i}].email`)} />
              {state.whanau.length > 1 && (
                <button type="button" className="button secondary" onClick={() => setState((s) => ({ ...s, whanau: s.whanau.filter((_, j) => j !== i) }))}>
                  Remove whānau member {i + 1}
                </button>
              )}
            </fieldset>
          ))}
          {state.whanau.length < 10 && (
            <button type="button" className="button secondary" onClick={() => setState((s) => ({ ...s, whanau: [...s.whanau, emptyWhanau()] }))}>
              Add another whānau member
            </button>
          )}
        </fieldset>

        <fieldset className="section">
          <legend>
            <h2>Home address</h2>
          </legend>
          {addr('home', 'homeAddress')}
        </fieldset>
        <fieldset className="section">
          <legend>
            <h2>Alternative address (optional)</h2>
          </legend>
          <p className="hint">Another place the ākonga stays, if there is one.</p>
          {addr('alt', 'alternativeAddress')}
        </fieldset>

        <fieldset className="section">
          <legend>
            <h2>About the request</h2>
          </legend>
          <TextArea path="reason" label="Reason for the request" hint="For example the attendance this term and what is worrying the school." value={state.reason} onChange={set('reason')} error={err('reason')} />
          <TextArea path="actionsTaken" label="Actions the school has taken" hint="What the school has already done to improve attendance, for example an attendance plan or hui with whānau." value={state.actionsTaken} onChange={set('actionsTaken')} error={err('actionsTaken')} />
          <Radios
            path="absencePattern"
            legend="How does the ākonga miss school?"
            hint="Attendance Services support ākonga who miss whole days. An ākonga who only misses a single class is supported through the school’s Attendance Management Plan."
            value={state.absencePattern}
            onChange={set('absencePattern')}
            error={err('absencePattern')}
            options={[
              ['whole_days', 'Whole days or half-days of school'],
              ['single_class', 'A single class only'],
            ]}
          />
          <TextInput
            path="primaryContactUserId"
            label="School Primary Contact"
            hint="The user id of the staff member who will work with the provider’s Case Manager (an Attendance Lead or School Primary Contact at your school)."
            className="w-20"
            value={state.primaryContactUserId}
            onChange={set('primaryContactUserId')}
            error={err('primaryContactUserId')}
          />
          {showIsp && (
            <Radios
              path="allocation"
              legend="Who should support the ākonga?"
              hint="Your school has In-School Provision (ISP). Choose the catchment provider if the ākonga has complex needs, or if in-school provision is not improving attendance."
              value={state.allocation}
              onChange={set('allocation')}
              error={err('allocation')}
              options={[
                ['in_school_provision', 'Our In-School Provision'],
                ['catchment', 'The catchment Attendance Service provider'],
              ]}
            />
          )}
        </fieldset>

        <div className="button-row">
          <button type="submit" className="button" disabled={busy}>
            Submit CA request
          </button>
          <button type="button" className="button secondary" onClick={() => void onSave()} disabled={busy}>
            Save as draft
          </button>
          {refId && (
            <button type="button" className="link-button discard" onClick={() => void onDiscard()} disabled={busy}>
              Discard this draft
            </button>
          )}
        </div>
      </form>
    </>
  );
}
