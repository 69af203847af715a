import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Me, type Problem, type Schemas, type TimelineEntry } from '../api/client';
import { Checkbox, ErrorSummary, Notice, ProblemBanner, TextArea, errorsFor, fieldId, fieldMessage, type SummaryItem } from '../components';
import { ACTIVITY_LABEL, AGENCY_LABEL, BARRIER_LABEL, BARRIER_STATE, CLOSE_REASON, DECISION_LABEL, ESCALATION_LABEL, FUND_LABEL, STEP_LABEL, ROLE_LABEL, SLA_LABEL, STATUS_LABEL, formatCents, formatDate, formatDateTime, isProvider, isSchool, slaText } from '../format';
import { Link } from '../router';
import { Barriers, CitActions, ProviderActions, RecordActivity } from './CaseActions';
import { Escalations } from './Escalations';
import { Agencies } from './Agencies';
import { Fund } from './Fund';
import { PLAN_KIND, Plan } from './Plan';

type Sensitive = Schemas['SensitiveParts'];
type HandedOver = Schemas['HandedOverCase'];

function who(by: TimelineEntry['by']): string {
  if (by.kind === 'system') return 'Attendance Services (automatic)';
  return `${by.userId} (${ROLE_LABEL[by.role as Me['role']] ?? by.role})`;
}

const CONTACT_FIELD: Record<'whanau' | 'homeAddress' | 'alternativeAddress', string> = {
  whanau: 'whānau',
  homeAddress: 'home address',
  alternativeAddress: 'alternative address',
};

function describe(e: TimelineEntry): string {
  switch (e.type) {
    case 'case_created':
      return e.caseType === 'NEN' ? 'Case created from a Non-Enrolment Notification (NEN)' : 'Case created from the school’s CA request';
    case 'allocated':
      return `Allocated to provider ${e.providerId}${e.route === 'in_school_provision' ? ' (In-School Provision)' : e.route === 'cit' ? ' by CIT' : ''}`;
    case 'status_changed':
      return `Status changed from ${STATUS_LABEL[e.from]} to ${STATUS_LABEL[e.to]}${e.reason ? ` (${CLOSE_REASON[e.reason] ?? e.reason})` : ''}`;
    case 'case_manager_assigned':
      return `Case Manager ${e.caseManager} assigned${e.previous ? ` (was ${e.previous})` : ''}${e.reason ? `: ${e.reason}` : ''}`;
    case 'transferred':
      return `Transferred from provider ${e.from ?? 'none'} to ${e.to}: ${e.reason}`;
    case 'enrolled':
      return `ENROL reported the ākonga enrolled at school ${e.schoolId} on ${formatDate(e.enrolledOn)}`;
    case 'converted_to_ca':
      return 'A CA request turned this NEN case into a CA case';
    case 'reopened_by_request':
      return 'Reopened by a new CA request';
    case 'non_enrolment_notified':
      return `ENROL reported a non-enrolment (last school ${e.lastSchoolId}, last attended ${formatDate(e.lastDayOfAttendance)})`;
    case 'school_changed':
      return `Moved from school ${e.from} to school ${e.to}`;
    case 'link_requested':
      return `School ${e.schoolId} asked for support for this ākonga`;
    case 'possible_duplicate':
      return `Possible duplicate of case ${e.of}`;
    case 'contacts_updated':
      return `Whānau contacts and addresses updated (${e.fields.map((f) => CONTACT_FIELD[f]).join(', ')})`;
    case 'primary_contact_changed':
      return `School Primary Contact changed to ${e.to}`;
    case 'duplicate_resolved':
      return `Possible duplicate of case ${e.of}: ${e.sameStudent ? 'the same ākonga' : 'a different ākonga'}`;
    case 'comment':
      return 'Comment';
    case 'file':
      return `File: ${e.fileName}`;
    case 'activity':
      return `${ACTIVITY_LABEL[e.activity] ?? e.activity} on ${formatDate(e.date)}`;
    case 'sla_breached':
      return `${SLA_LABEL[e.sla]}: overdue (was due ${formatDate(e.due)})`;
    case 'barrier_recorded':
      return `Barrier: ${BARRIER_LABEL[e.kind] ?? e.kind} — ${BARRIER_STATE[e.state]?.toLowerCase() ?? e.state}`;
    case 'plan_item_recorded':
      return e.state === 'open' ? `Support plan: ${PLAN_KIND[e.kind] ?? e.kind} added` : `Support plan: ${PLAN_KIND[e.kind] ?? e.kind} ${e.state}`;
    case 'plan_reviewed':
      return `Support plan reviewed (${formatDate(e.heldOn)})`;
    case 'fund_spent':
      return `Unmet Basic Needs Fund: ${formatCents(e.amountCents)} spent on ${(FUND_LABEL[e.category] ?? e.category).toLowerCase()}`;
    case 'fund_refunded':
      return `Unmet Basic Needs Fund: ${formatCents(e.amountCents)} refunded`;
    case 'agency_engaged':
      return `Agency engaged: ${AGENCY_LABEL[e.agency] ?? e.agency}`;
    case 'agency_check_requested':
      return `Agency check asked: ${AGENCY_LABEL[e.agency] ?? e.agency}`;
    case 'agency_check_answered':
      return `Agency check result recorded: ${AGENCY_LABEL[e.agency] ?? e.agency}`;
    case 'consulted':
      return `The provider consulted the school (${formatDate(e.heldOn)}) before: ${(STEP_LABEL[e.about] ?? e.about).toLowerCase()}`;
    case 'escalated':
      return `${ESCALATION_LABEL[e.escalation] ?? e.escalation} (${formatDate(e.on)})`;
    case 'escalation_outcome':
      return `${ESCALATION_LABEL[e.escalation] ?? e.escalation}: ${e.decision ? DECISION_LABEL[e.decision].toLowerCase() : 'outcome recorded'}`;
    default:
      // a kind of entry this version of the portal does not know yet
      return 'Case updated';
  }
}

function Timeline({ id, entries, more, onMore, canSeeSharing }: { id: string; entries: TimelineEntry[]; more: boolean; onMore: () => void; canSeeSharing: boolean }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const download = async (fileId: string) => {
    const { data, error, response } = await (await api()).GET('/cases/{id}/files/{fileId}', { params: { path: { id, fileId } } });
    if (error || !data?.url) return setProblem(asProblem(error, response.status));
    const a = document.createElement('a');
    a.href = data.url;
    a.rel = 'noopener';
    a.download = data.fileName ?? '';
    document.body.appendChild(a);
    a.click();
    a.remove();
  };
  return (
    <section aria-labelledby="timeline">
      <h2 id="timeline">Timeline</h2>
      <ProblemBanner problem={problem} />
      {!entries.length && <p>Nothing has happened on this case yet.</p>}
      <ol className="timeline">
        {entries.map((e) => (
          <li key={e.id}>
            <p className="tl-head">
              <strong>{describe(e)}</strong>
              {canSeeSharing && <span className={`tag ${e.sharedWithSchool ? 'tag-shared' : 'tag-private'}`}>{e.sharedWithSchool ? 'Shared with school' : 'Not shared with school'}</span>}
            </p>
            <p className="hint">
              {formatDateTime(e.at)} · {who(e.by)}
            </p>
            {e.type === 'comment' && <p className="tl-text">{e.text}</p>}
            {e.type === 'activity' && (
              <>
                {e.attendees.length > 0 && <p>Attendees: {e.attendees.join(', ')}</p>}
                {e.notes && <p className="tl-text">{e.notes}</p>}
              </>
            )}
            {e.type === 'file' && (
              <button type="button" className="link-button" onClick={() => void download(e.fileId)}>
                Download {e.fileName} ({Math.max(1, Math.round(e.size / 1024))} KB)
              </button>
            )}
          </li>
        ))}
      </ol>
      {more && (
        <button type="button" className="button secondary" onClick={onMore}>
          Show more of the timeline
        </button>
      )}
    </section>
  );
}

function CommentForm({ id, me, onDone }: { id: string; me: Me; onDone: () => void }) {
  const [text, setText] = useState('');
  const [shared, setShared] = useState(false);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const school = isSchool(me);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    if (!text.trim()) {
      setErrors(new Map([['text', 'Enter a comment']]));
      return;
    }
    const { error, response } = await (await api()).POST('/cases/{id}/comments', { params: { path: { id } }, body: school ? { text } : { text, shared } });
    if (error) {
      const p = asProblem(error, response.status);
      setErrors(errorsFor(p.errors));
      setProblem(p.errors?.length ? null : p);
      return;
    }
    setErrors(new Map());
    setProblem(null);
    setText('');
    setDone(school ? 'Comment added. The Case Manager has been told.' : shared ? 'Comment added and shared with the school.' : 'Comment added (not shared with the school).');
    onDone();
  };
  const items: SummaryItem[] = [...errors].map(([f, m]) => ({ field: `comment.${f}`, text: fieldMessage('The comment', m) }));
  return (
    <form onSubmit={submit} noValidate aria-labelledby="add-comment">
      <h3 id="add-comment">Add a comment</h3>
      <ErrorSummary items={items} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      <TextArea path="comment.text" label="Comment" hint={school ? 'The provider sees your comment.' : undefined} value={text} onChange={setText} error={items[0]?.text} />
      {!school && <Checkbox id="comment-shared" label="Share this comment with the school" checked={shared} onChange={setShared} />}
      <button type="submit" className="button">
        Add comment
      </button>
    </form>
  );
}

const FILE_TYPES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word (DOCX)',
  'text/plain': 'text',
};

function UploadForm({ id, me, onDone }: { id: string; me: Me; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [shared, setShared] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const school = isSchool(me);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    setProblem(null);
    const file = input.current?.files?.[0];
    if (!file) return setError('Choose a file to upload');
    if (!FILE_TYPES[file.type]) return setError('The file must be a PDF, PNG, JPEG, Word (DOCX) or text file');
    if (file.size > 20 * 1024 * 1024) return setError('The file must be 20 MB or smaller');
    if (file.size === 0) return setError('The file is empty');
    setError(null);
    setBusy(true);
    try {
      const { data, error: err, response } = await (await api()).POST('/cases/{id}/files', {
        params: { path: { id } },
        body: { fileName: file.name, contentType: file.type as Schemas['UploadRequest']['contentType'], size: file.size, shared: school ? true : shared },
      });
      if (err || !data?.upload?.url) {
        const p = asProblem(err, response.status);
        if (p.errors?.length) setError(p.errors.map((x) => fieldMessage('The file', x.message)).join('. '));
        else setProblem(p);
        return;
      }
      const form = new FormData();
      for (const [k, v] of Object.entries(data.upload.fields ?? {})) form.append(k, v);
      form.append('file', file);
      const put = await fetch(data.upload.url, { method: 'POST', body: form });
      if (!put.ok) {
        setProblem({ type: 'about:blank', title: 'The file was not uploaded', status: put.status, detail: 'The file store refused the upload. Try again.' });
        return;
      }
      if (input.current) input.current.value = '';
      setDone('File uploaded. It appears on the timeline once it has been checked, usually within a few seconds.');
      onDone();
    } finally {
      setBusy(false);
    }
  };
  const fid = fieldId('upload.file');
  return (
    <form onSubmit={submit} noValidate aria-labelledby="add-file">
      <h3 id="add-file">Upload a file</h3>
      <ErrorSummary items={error ? [{ field: 'upload.file', text: error }] : []} />
      <ProblemBanner problem={problem} />
      {done && <Notice>{done}</Notice>}
      <div className={`field${error ? ' field-error' : ''}`}>
        <label htmlFor={fid}>File</label>
        <p className="hint" id={`${fid}-hint`}>
          PDF, PNG, JPEG, Word (DOCX) or text, up to 20 MB.{school ? ' The provider sees files you upload.' : ''}
        </p>
        {error && (
          <p className="error-message" id={`${fid}-error`}>
            <span className="visually-hidden">Error: </span>
            {error}
          </p>
        )}
        <input ref={input} id={fid} type="file" aria-describedby={`${fid}-hint${error ? ` ${fid}-error` : ''}`} aria-invalid={error ? true : undefined} accept=".pdf,.png,.jpg,.jpeg,.docx,.txt" />
      </div>
      {!school && <Checkbox id="upload-shared" label="Share this file with the school" checked={shared} onChange={setShared} />}
      <button type="submit" className="button" disabled={busy}>
        Upload file
      </button>
    </form>
  );
}

function SensitiveSection({ id, me, kase }: { id: string; me: Me; kase: Case }) {
  const [data, setData] = useState<Sensitive | null>(null);
  const [denied, setDenied] = useState(false);
  const [note, setNote] = useState('');
  const [health, setHealth] = useState('');
  const [errors, setErrors] = useState<SummaryItem[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const providerOnCase = isProvider(me) && kase.providerId === me.organisation.id;
  const load = useCallback(async () => {
    const { data, response } = await (await api()).GET('/cases/{id}/sensitive', { params: { path: { id } } });
    if (response.status === 403) return setDenied(true);
    if (data) setData(data);
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  if (denied) return null;
  const add = async (kind: 'safety' | 'health', e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const text = kind === 'safety' ? note : health;
    const field = kind === 'safety' ? 'sensitive.safety' : 'sensitive.health';
    if (!text.trim()) return setErrors([{ field, text: kind === 'safety' ? 'Enter the safety note' : 'Enter the health information' }]);
    const c = await api();
    const r = kind === 'safety' ? await c.POST('/cases/{id}/safety-notes', { params: { path: { id } }, body: { text } }) : await c.POST('/cases/{id}/health', { params: { path: { id } }, body: { text } });
    if (r.error) {
      const p = asProblem(r.error, r.response.status);
      return setErrors([{ field, text: p.errors?.[0] ? fieldMessage('The note', p.errors[0].message) : (p.detail ?? p.title) }]);
    }
    setErrors([]);
    if (kind === 'safety') setNote('');
    else setHealth('');
    setDone(kind === 'safety' ? 'Safety note added.' : 'Health information added.');
    void load();
  };
  const canAddSafety = (isSchool(me) || providerOnCase) && kase.status !== 'closed';
  return (
    <section aria-labelledby="sensitive" className="sensitive">
      <h2 id="sensitive">Safety notes{data?.health ? ' and health information' : ''}</h2>
      <p className="hint">Restricted: only the people who need this information can see it. Every view is recorded.</p>
      <ErrorSummary items={errors} />
      {done && <Notice>{done}</Notice>}
      <h3>Safety notes</h3>
      {data?.safetyNotes?.length ? (
        <ul className="notes">
          {data.safetyNotes.map((n) => (
            <li key={n.id}>
              <p className="tl-text">{n.text}</p>
              <p className="hint">{formatDateTime(n.at)}</p>
            </li>
          ))}
        </ul>
      ) : (
        <p>No safety notes.</p>
      )}
      {canAddSafety && (
        <form onSubmit={(e) => void add('safety', e)} noValidate>
          <TextArea path="sensitive.safety" label="Add a safety note" hint="For example a risk to staff visiting the home." value={note} onChange={setNote} error={errors.find((x) => x.field === 'sensitive.safety')?.text} rows={3} />
          <button type="submit" className="button secondary">
            Add safety note
          </button>
        </form>
      )}
      {data?.health && (
        <>
          <h3>Health information</h3>
          {data.health.length ? (
            <ul className="notes">
              {data.health.map((n) => (
                <li key={n.id}>
                  <p className="tl-text">{n.text}</p>
                  <p className="hint">{formatDateTime(n.at)}</p>
                </li>
              ))}
            </ul>
          ) : (
            <p>No health information.</p>
          )}
          {providerOnCase && kase.status !== 'closed' && (
            <form onSubmit={(e) => void add('health', e)} noValidate>
              <TextArea path="sensitive.health" label="Add health information" value={health} onChange={setHealth} error={errors.find((x) => x.field === 'sensitive.health')?.text} rows={3} />
              <button type="submit" className="button secondary">
                Add health information
              </button>
            </form>
          )}
        </>
      )}
    </section>
  );
}

function Details({ kase }: { kase: Case }) {
  const addr = (a?: Case['homeAddress']) => (a ? [a.street, a.suburb, a.town, a.postcode].filter(Boolean).join(', ') : '');
  return (
    <section aria-labelledby="details">
      <h2 id="details">The ākonga and whānau</h2>
      <dl className="summary-list">
        <div>
          <dt>Date of birth</dt>
          <dd>{formatDate(kase.student.dateOfBirth)}</dd>
        </div>
        {kase.student.nsn && (
          <div>
            <dt>NSN</dt>
            <dd>{kase.student.nsn}</dd>
          </div>
        )}
        {kase.student.yearLevel !== undefined && (
          <div>
            <dt>Year level</dt>
            <dd>{kase.student.yearLevel}</dd>
          </div>
        )}
        {kase.whanau.map((w, i) => (
          <div key={i}>
            <dt>Whānau {kase.whanau.length > 1 ? i + 1 : ''}</dt>
            <dd>{[w.name, w.relationship, w.phone, w.email].filter(Boolean).join(' · ')}</dd>
          </div>
        ))}
        {kase.homeAddress && (
          <div>
            <dt>Home address</dt>
            <dd>{addr(kase.homeAddress)}</dd>
          </div>
        )}
        {kase.alternativeAddress && (
          <div>
            <dt>Alternative address</dt>
            <dd>{addr(kase.alternativeAddress)}</dd>
          </div>
        )}
        {kase.reason && (
          <div>
            <dt>Reason for the request</dt>
            <dd className="tl-text">{kase.reason}</dd>
          </div>
        )}
        {kase.actionsTaken && (
          <div>
            <dt>Actions the school has taken</dt>
            <dd className="tl-text">{kase.actionsTaken}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}

export function CasePage({ me, id }: { me: Me; id: string }) {
  const [kase, setCase] = useState<Case | null>(null);
  const [handed, setHanded] = useState<HandedOver | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);

  useEffect(() => {
    document.title = 'Case - Attendance Service Portal';
  }, []);

  const loadCase = useCallback(async () => {
    const { data, error, response } = await (await api()).GET('/cases/{id}', { params: { path: { id } } });
    if (error || !data) return setProblem(asProblem(error, response.status));
    if ('handedOver' in data) setHanded(data);
    else setCase(data);
  }, [id]);

  const loadTimeline = useCallback(
    async (from?: string) => {
      const { data } = await (await api()).GET('/cases/{id}/timeline', { params: { path: { id }, query: { limit: 50, cursor: from } } });
      if (!data) return;
      setEntries((old) => (from ? [...old, ...(data.items ?? [])] : (data.items ?? [])));
      setCursor(data.nextCursor ?? null);
    },
    [id],
  );

  useEffect(() => {
    void loadCase();
    void loadTimeline();
  }, [loadCase, loadTimeline]);

  /** After a change: the case and the timeline again (a file shows once S3 has confirmed it). */
  const refresh = useCallback(
    (poll = false) => {
      void loadCase();
      void loadTimeline();
      if (poll) for (const ms of [1000, 2500, 5000]) setTimeout(() => void loadTimeline(), ms);
    },
    [loadCase, loadTimeline],
  );

  const changed = (c: Case) => {
    setCase(c);
    refresh();
  };

  if (problem && !kase) {
    return (
      <>
        <h1 tabIndex={-1}>{problem.status === 404 ? 'Case not found' : 'The case could not be shown'}</h1>
        <ProblemBanner problem={problem.status === 404 ? null : problem} />
        {problem.status === 404 && <p>The case does not exist, or you do not have access to it.</p>}
        <p>
          <Link href="/">Back to your cases</Link>
        </p>
      </>
    );
  }
  if (handed) {
    return (
      <>
        <h1 tabIndex={-1}>This case has moved to another school</h1>
        <p>The ākonga enrolled at another school, and the case moved with them on {formatDate(handed.handedOver.at)}. Your school no longer sees it.</p>
      </>
    );
  }
  if (!kase) return <p role="status">Loading the case…</p>;

  const providerOnCase = isProvider(me) && kase.providerId === me.organisation.id;
  const safetyWarning = (kase as Case & { safetyWarning?: boolean }).safetyWarning;
  return (
    <>
      <p className="breadcrumb">
        <Link href="/">Your cases</Link>
      </p>
      {safetyWarning && (
        <div className="warning" role="note">
          <strong>Safety notes exist for this case.</strong> Read them before contacting the whānau.
        </div>
      )}
      <h1 tabIndex={-1}>
        {kase.student.fullName} <span className="caption">{kase.caseType} case</span>
      </h1>
      <dl className="summary-list" data-testid="case-summary">
        <div>
          <dt>Status</dt>
          <dd>
            <strong className={`tag tag-${kase.status}`}>{STATUS_LABEL[kase.status]}</strong>
            {kase.closeReason && <> · {CLOSE_REASON[kase.closeReason] ?? kase.closeReason}</>}
          </dd>
        </div>
        <div>
          <dt>Provider</dt>
          <dd>{kase.providerId ? `${kase.names?.provider ? `${kase.names.provider} (${kase.providerId})` : kase.providerId}${kase.allocationChoice === 'in_school_provision' ? ' (In-School Provision)' : ''}` : 'Not allocated yet'}</dd>
        </div>
        <div>
          <dt>Case Manager</dt>
          <dd>{kase.caseManager ? (kase.names?.caseManager ? `${kase.names.caseManager} · ${kase.caseManager}` : kase.caseManager) : 'Not assigned yet'}</dd>
        </div>
        <div>
          <dt>School</dt>
          <dd>{kase.names?.school ? `${kase.names.school} (${kase.schoolId})` : kase.schoolId}</dd>
        </div>
        {kase.primaryContact && (
          <div>
            <dt>School Primary Contact</dt>
            <dd>{kase.names?.primaryContact ? `${kase.names.primaryContact} · ${kase.primaryContact}` : kase.primaryContact}</dd>
          </div>
        )}
        <div>
          <dt>Referred</dt>
          <dd>{formatDate(kase.referredAt)}</dd>
        </div>
        {kase.closedAt && (
          <div>
            <dt>Closed</dt>
            <dd>{formatDate(kase.closedAt)}</dd>
          </div>
        )}
        <div>
          <dt>Case reference</dt>
          <dd>{kase.id}</dd>
        </div>
      </dl>
      {kase.status === 'closed' && <Notice>This case is closed. You can still read it.</Notice>}

      {kase.sla?.length ? (
        <section aria-labelledby="sla">
          <h2 id="sla">Service levels</h2>
          <dl className="summary-list">
            {kase.sla.map((s) => {
              const t = slaText(s);
              return (
                <div key={s.kind}>
                  <dt>{SLA_LABEL[s.kind]}</dt>
                  <dd>
                    <span className={`sla sla-${t.tone}`}>{t.text}</span>
                  </dd>
                </div>
              );
            })}
          </dl>
        </section>
      ) : null}

      {me.can.readAudit && (
        <p>
          <Link href={`/cases/${kase.id}/audit`}>See who has viewed and changed this case (audit trail)</Link>
        </p>
      )}

      {providerOnCase && <ProviderActions me={me} kase={kase} onChanged={changed} />}
      {me.role === 'cit' && <CitActions kase={kase} onChanged={changed} />}

      <Details kase={kase} />
      <SensitiveSection id={id} me={me} kase={kase} />
      <Timeline id={id} entries={entries} more={!!cursor} onMore={() => void loadTimeline(cursor ?? undefined)} canSeeSharing={!isSchool(me)} />
      {providerOnCase && kase.status !== 'closed' && <RecordActivity kase={kase} onDone={() => refresh()} />}
      {(providerOnCase || (isSchool(me) && me.role !== 'office_support') || me.role === 'prosecutions' || kase.escalations?.length || kase.consultations?.length) && (
        <Escalations me={me} kase={kase} onDone={() => refresh()} />
      )}
      {(providerOnCase || me.role === 'cit' || kase.agencies?.length) && <Agencies me={me} kase={kase} provider={providerOnCase} onDone={() => refresh()} />}
      {(providerOnCase || kase.plan?.length) && <Plan kase={kase} canKeep={providerOnCase && kase.status !== 'closed'} onDone={() => refresh()} />}
      {(providerOnCase || kase.fundSpends?.length) && (
        <Fund me={me} kase={kase} provider={providerOnCase} files={entries.filter((e) => e.type === 'file')} onDone={() => refresh()} />
      )}
      {(providerOnCase || kase.barriers?.length) && <Barriers kase={kase} canRecord={providerOnCase && kase.status !== 'closed'} onDone={() => refresh()} />}
      <section aria-labelledby="collaborate" className="collaborate">
        <h2 id="collaborate">Comments and files</h2>
        <CommentForm id={id} me={me} onDone={() => refresh()} />
        <UploadForm id={id} me={me} onDone={() => refresh(true)} />
      </section>
    </>
  );
}
