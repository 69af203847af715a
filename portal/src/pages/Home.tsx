import { useCallback, useEffect, useState } from 'react';
import { api, asProblem, type Case, type CaseStatus, type CaseSummary, type Me, type Problem, type Referral } from '../api/client';
import { Notice, ProblemBanner, Select, TextInput } from '../components';
import { allCases, oldestFirst, useLoad } from '../data';
import { ROLE_LABEL, SLA_LABEL, STATUS_LABEL, STATUS_ORDER, ageText, formatCents, formatDate, isProvider, isSchool, slaText } from '../format';
import { Link, navigate } from '../router';
import { ProviderName } from '../directory';
import { Reassign } from './Reassign';
import { Initiatives } from './Initiatives';
import { ExportCases } from './ExportCases';

/** SLA clocks for the open cases of a list (GET /cases/{id}; the list rows do not carry them). */
function useSla(cases: CaseSummary[] | null): Map<string, Case['sla']> {
  const [sla, setSla] = useState(new Map<string, Case['sla']>());
  useEffect(() => {
    if (!cases) return;
    let stop = false;
    const todo = cases.filter((c) => ['provider_queue', 'open', 'awaiting_allocation'].includes(c.status)).slice(0, 25);
    void (async () => {
      const c = await api();
      const next = new Map<string, Case['sla']>();
      for (let i = 0; i < todo.length && !stop; i += 5) {
        await Promise.all(
          todo.slice(i, i + 5).map(async (s) => {
            const { data } = await c.GET('/cases/{id}', { params: { path: { id: s.id } } });
            if (data && 'sla' in data) next.set(s.id, data.sla);
          }),
        );
        if (!stop) setSla(new Map(next));
      }
    })();
    return () => {
      stop = true;
    };
  }, [cases]);
  return sla;
}

function SlaSummary({ sla }: { sla?: Case['sla'] }) {
  if (!sla?.length) return null;
  return (
    <>
      {sla.map((s) => {
        const t = slaText(s);
        return (
          <div key={s.kind}>
            <dt>{s.kind === 'school_meeting' ? 'School meeting' : 'Whānau meeting'}</dt>
            <dd>
              <span className={`sla sla-${t.tone}`} title={SLA_LABEL[s.kind]}>
                {t.text}
              </span>
            </dd>
          </div>
        );
      })}
    </>
  );
}

function CaseList({ cases, sla, showAge, label }: { cases: CaseSummary[]; sla: Map<string, Case['sla']>; showAge?: boolean; label: string }) {
  if (!cases.length) return <p>There are no cases here.</p>;
  return (
    <ul className="case-list" aria-label={label}>
      {cases.map((c) => (
        <li key={c.id} className="case-card">
          <h3>
            <Link href={`/cases/${c.id}`}>{c.student.fullName}</Link>
          </h3>
          <dl className="inline-dl">
            <div>
              <dt>Case</dt>
              <dd>
                {c.caseType} · {STATUS_LABEL[c.status]}
              </dd>
            </div>
            {c.student.yearLevel !== undefined && (
              <div>
                <dt>Year</dt>
                <dd>{c.student.yearLevel}</dd>
              </div>
            )}
            <div>
              <dt>Referred</dt>
              <dd>
                {formatDate(c.referredAt)}
                {showAge && <> ({ageText(c.referredAt)} ago)</>}
              </dd>
            </div>
            {c.providerId && (
              <div>
                <dt>Provider</dt>
                <dd>
                  <ProviderName id={c.providerId} />
                </dd>
              </div>
            )}
            {c.caseManager && (
              <div>
                <dt>Case Manager</dt>
                <dd>{c.caseManager}</dd>
              </div>
            )}
            {c.closedAt && (
              <div>
                <dt>Closed</dt>
                <dd>{formatDate(c.closedAt)}</dd>
              </div>
            )}
            <SlaSummary sla={sla.get(c.id)} />
          </dl>
        </li>
      ))}
    </ul>
  );
}

function ByStatus({ cases, sla, skip = [] }: { cases: CaseSummary[]; sla: Map<string, Case['sla']>; skip?: CaseStatus[] }) {
  const groups = STATUS_ORDER.filter((s) => !skip.includes(s)).map((s) => [s, cases.filter((c) => c.status === s)] as const);
  const shown = groups.filter(([, xs]) => xs.length);
  if (!shown.length) return <p>There are no cases yet.</p>;
  return (
    <>
      {shown.map(([s, xs]) => (
        <section key={s} aria-labelledby={`group-${s}`}>
          <h2 id={`group-${s}`}>
            {STATUS_LABEL[s]} <span className="count">({xs.length})</span>
          </h2>
          <CaseList cases={s === 'closed' ? xs : oldestFirst(xs)} sla={sla} showAge={s !== 'closed'} label={STATUS_LABEL[s]} />
        </section>
      ))}
    </>
  );
}

function Drafts({ me }: { me: Me }) {
  const drafts = useLoad(async (c) => {
    const { data, error, response } = await c.GET('/referrals', { params: { query: { status: 'draft', limit: 25 } } });
    if (error || !data) throw asProblem(error, response.status);
    return data.items;
  }, [me.userId]);
  if (!drafts.data?.length) return null;
  return (
    <section aria-labelledby="drafts">
      <h2 id="drafts">Draft CA requests</h2>
      <ul className="case-list">
        {drafts.data.map((d: Referral) => (
          <li key={d.id} className="case-card">
            <h3>
              <Link href={`/requests/${d.id}`}>Continue: {d.form.student?.fullName || 'ākonga not named yet'}</Link>
            </h3>
            <p className="hint">Last saved {formatDate(d.updatedAt)}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Go straight to a case by its reference (the service desk, an email, a colleague quote it). */
function FindCase() {
  const [ref, setRef] = useState('');
  const [error, setError] = useState<string | undefined>();
  return (
    <form
      className="panel"
      aria-labelledby="find-case"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const id = ref.trim();
        if (!/^[0-9A-Za-z]{10,40}$/.test(id)) return setError('Enter the case reference, for example 01M8T5SVKKSQ2GRGCMYCRK11NA');
        navigate(`/cases/${id.toUpperCase()}`);
      }}
    >
      <h2 id="find-case">Find a case</h2>
      <TextInput path="find.ref" label="Case reference" className="w-20" value={ref} onChange={setRef} error={error} />
      <button type="submit" className="button secondary">
        Find the case
      </button>
    </form>
  );
}

/** One status at a time, a page at a time (oldest first): for national lists that are long. */
function StatusBrowser({ initial, skip = [] }: { initial: CaseStatus; skip?: CaseStatus[] }) {
  const [status, setStatus] = useState<CaseStatus>(initial);
  const [items, setItems] = useState<CaseSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const load = useCallback(
    async (from?: string) => {
      setLoading(true);
      const { data, error, response } = await (await api()).GET('/cases', { params: { query: { status, limit: 50, cursor: from } } });
      setLoading(false);
      if (error || !data) return setProblem(asProblem(error, response.status));
      setProblem(null);
      setItems((old) => (from ? [...old, ...data.items] : data.items));
      setCursor(data.nextCursor ?? null);
    },
    [status],
  );
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-labelledby="browse">
      <h2 id="browse">Cases by status</h2>
      <Select
        path="browse.status"
        label="Status"
        className="w-20"
        value={status}
        onChange={(v) => setStatus(v as CaseStatus)}
        options={STATUS_ORDER.filter((s) => !skip.includes(s)).map((s) => [s, STATUS_LABEL[s]])}
      />
      <ProblemBanner problem={problem} />
      <div data-testid="case-list" aria-busy={loading}>
        {!loading || items.length ? <CaseList cases={items} sla={new Map()} showAge={status !== 'closed'} label={`${STATUS_LABEL[status]} cases`} /> : <p role="status">Loading cases…</p>}
      </div>
      {cursor && (
        <button type="button" className="button secondary" onClick={() => void load(cursor)}>
          Show more {STATUS_LABEL[status]} cases
        </button>
      )}
    </section>
  );
}

export function Home({ me }: { me: Me }) {
  useEffect(() => {
    document.title = 'Home - Attendance Service Portal';
  }, []);
  if (me.organisation.kind === 'ministry') return <MinistryHome me={me} />;
  return <OrgHome me={me} />;
}

/** The Prosecutions team's queue: the cases referred to it (no other case is visible to it), oldest referral first. */
function ProsecutionsQueue() {
  const queue = useLoad((c) => allCases(c), []);
  return (
    <section aria-labelledby="referred">
      <h2 id="referred">
        Cases referred for prosecution <span className="count">({queue.data?.length ?? '…'})</span>
      </h2>
      <p className="hint">Oldest referral first. Open a case to accept or decline the referral and record its outcome.</p>
      <ProblemBanner problem={queue.problem} />
      {queue.data ? <CaseList cases={queue.data} sla={new Map()} showAge={false} label="Cases referred for prosecution" /> : <p role="status">Loading the queue…</p>}
    </section>
  );
}

function MinistryHome({ me }: { me: Me }) {
  const cit = me.role === 'cit';
  const queue = useLoad((c) => (cit ? allCases(c, 'cit_review') : Promise.resolve([])), [me.userId]);
  const sla = new Map<string, Case['sla']>();
  return (
    <>
      <h1 tabIndex={-1}>{cit ? 'NEN review and cases' : 'Cases in your scope'}</h1>
      <p className="lead">
        Signed in as {me.displayName ?? me.userId}, {ROLE_LABEL[me.role]}.
      </p>
      {cit && (
        <section aria-labelledby="nen">
          <h2 id="nen">
            NEN review queue <span className="count">({queue.data?.length ?? '…'})</span>
          </h2>
          <p className="hint">Non-Enrolment Notifications from ENROL, oldest first. Allocate each to a provider or close it.</p>
          <ProblemBanner problem={queue.problem} />
          {queue.data ? <CaseList cases={oldestFirst(queue.data)} sla={sla} showAge label="NEN review queue" /> : <p role="status">Loading the queue…</p>}
        </section>
      )}
      {me.role === 'prosecutions' ? (
        <>
          <ProsecutionsQueue />
          <FindCase />
        </>
      ) : (
        <>
          <FindCase />
          <StatusBrowser initial={cit ? 'provider_queue' : 'open'} skip={cit ? ['cit_review'] : []} />
        </>
      )}
    </>
  );
}

/** The provider's Unmet Basic Needs Fund this contract year, spent against its 3 % cap. */
function FundBalance({ me }: { me: Me }) {
  const fund = useLoad(async (c) => {
    const id = me.organisation.id;
    if (!id) return null;
    const { data, error, response } = await c.GET('/providers/{id}/fund', { params: { path: { id } } });
    if (error) throw asProblem(error, response.status);
    return data;
  }, [me.userId]);
  if (!fund.data) return null;
  const f = fund.data;
  return (
    <section aria-labelledby="fund-balance">
      <h2 id="fund-balance">Unmet Basic Needs Fund {f.contractYear}</h2>
      {f.contractCents == null ? (
        <p>The Ministry has not recorded your contract value yet, so the fund cannot be used.</p>
      ) : (
        <p>
          {formatCents(f.spentCents)} spent of {formatCents(f.capCents)} (3 % of the contract); <strong>{formatCents(f.remainingCents)} left</strong>.
        </p>
      )}
    </section>
  );
}

function OrgHome({ me }: { me: Me }) {
  const cases = useLoad((c) => allCases(c), [me.userId]);
  const sla = useSla(cases.data);

  const heading = isSchool(me) ? 'Your school’s cases' : 'Your provider’s cases';
  return (
    <>
      <h1 tabIndex={-1}>{heading}</h1>
      <p className="lead">
        Signed in as {me.displayName ?? me.userId}, {ROLE_LABEL[me.role]}.
        {me.role === 'school_primary_contact' && ' You see the cases where you are the School Primary Contact.'}
      </p>
      {(history.state as { discarded?: boolean } | null)?.discarded && <Notice>The draft has been discarded.</Notice>}
      {isSchool(me) && me.can.makeRequests && (
        <p>
          <Link href="/requests/new" className="button">
            Start a CA request
          </Link>
        </p>
      )}
      {isSchool(me) && me.can.makeRequests && <Drafts me={me} />}
      {isProvider(me) && <FundBalance me={me} />}
      <ProblemBanner problem={cases.problem} />
      {cases.loading && !cases.data && <p role="status">Loading cases…</p>}
      {cases.data && (
        <div data-testid="case-list">
          {isProvider(me) && (
            <section aria-labelledby="queue">
              <h2 id="queue">
                Provider Queue: waiting for a Case Manager <span className="count">({cases.data.filter((c) => c.status === 'provider_queue').length})</span>
              </h2>
              <p className="hint">Oldest first. The SLA clocks run from the referral date.</p>
              <CaseList cases={oldestFirst(cases.data.filter((c) => c.status === 'provider_queue'))} sla={sla} showAge label="Provider Queue" />
            </section>
          )}
          {me.role === 'case_manager' && (
            <section aria-labelledby="mine">
              <h2 id="mine">
                Assigned to you <span className="count">({cases.data.filter((c) => c.caseManager === me.userId && c.status !== 'closed').length})</span>
              </h2>
              <CaseList cases={oldestFirst(cases.data.filter((c) => c.caseManager === me.userId && c.status !== 'closed'))} sla={sla} showAge label="Assigned to you" />
            </section>
          )}
          <ByStatus cases={cases.data} sla={sla} skip={isProvider(me) ? ['provider_queue'] : []} />
          {cases.data.length > 0 && <ExportCases />}
        </div>
      )}
      {me.role === 'provider_admin' && cases.data && <Reassign me={me} cases={cases.data} onDone={() => void cases.reload()} />}
      {(isProvider(me) || me.role === 'attendance_lead' || me.role === 'office_support') && <Initiatives me={me} />}
    </>
  );
}
