import { useEffect, useState } from 'react';
import { api, asProblem, type Api, type Me, type Problem, type Schemas } from '../api/client';
import { ProblemBanner } from '../components';
import { DownloadButton } from './ExportCases';
import { provider, useProviderName } from '../directory';
import { BARRIER_LABEL, CLOSE_REASON, SLA_LABEL, STATUS_LABEL, STATUS_ORDER, formatCents, formatDate, isProvider, isSchool } from '../format';

type Dashboard = Schemas['Dashboard'];
type Count = Schemas['DashboardCount'];

/** Which dashboard the caller has: their school's, provider's, region's or the nation's. */
export function dashboardOf(me: Me): { path: string; title: string } | null {
  const id = me.organisation.id;
  if (isSchool(me) && id) return { path: `/dashboards/schools/${id}`, title: me.role === 'school_primary_contact' ? 'Your cases in figures' : 'School dashboard' };
  if (isProvider(me) && id) return { path: `/dashboards/providers/${id}`, title: 'Provider dashboard' };
  if (me.role === 'regional' && me.organisation.regionId) return { path: `/dashboards/regions/${me.organisation.regionId}`, title: 'Regional dashboard' };
  if (me.role === 'national') return { path: '/dashboards/national', title: 'National dashboard' };
  return null;
}

/** The caller's dashboard, as JSON or (`csv`) the CSV file. */
function get(c: Api, path: string, format: 'json' | 'csv') {
  const [, kind, id] = path.split('/').slice(1);
  const parseAs = format === 'csv' ? ('blob' as const) : ('json' as const);
  const query = { format };
  return kind === 'schools'
    ? c.GET('/dashboards/schools/{id}', { params: { path: { id }, query }, parseAs })
    : kind === 'providers'
      ? c.GET('/dashboards/providers/{id}', { params: { path: { id }, query }, parseAs })
      : kind === 'regions'
        ? c.GET('/dashboards/regions/{id}', { params: { path: { id }, query }, parseAs })
        : c.GET('/dashboards/national', { params: { query }, parseAs });
}

async function load(path: string): Promise<Dashboard> {
  const r = await get(await api(), path, 'json');
  if (r.error || !r.data) throw asProblem(r.error, r.response.status);
  return r.data as Dashboard;
}

/** A bar beside a number: drawn for the eye, the number is the text (screen readers read it). */
function Bar({ value, max }: { value: number; max: number }) {
  const pct = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
  return (
    <span className="bar" aria-hidden="true">
      <span className="bar-fill" style={{ width: `${pct}%` }} />
    </span>
  );
}

/** A row of a bar table: its heading, its numbers (one per column), and the bar's length. */
type BarRow = { key: string; label: string; values: number[]; bar: number };

/** A table with a bar per row: the accessible form of a bar chart (the numbers are the text). */
function BarTable({ caption, head, columns, rows, empty }: { caption: string; head: string; columns: string[]; rows: BarRow[]; empty: string }) {
  const max = Math.max(0, ...rows.map((r) => r.bar));
  if (!rows.length) return <p>{empty}</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head}</th>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Chart</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              {r.values.map((v, i) => (
                <td key={columns[i]}>{v}</td>
              ))}
              <td className="bar-cell">
                <Bar value={r.bar} max={max} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Counts by a key (reason, Case Manager, barrier, …): one column of cases. */
function CountTable({ caption, rows, label }: { caption: string; rows: { key: string; label: string; count: number }[]; label: string }) {
  return <BarTable caption={caption} head={label} columns={['Cases']} rows={rows.map((r) => ({ key: r.key, label: r.label, values: [r.count], bar: r.count }))} empty={`No ${caption.toLowerCase()} yet.`} />;
}

function counts(xs: Count[] | undefined, label: (k: string) => string) {
  return [...(xs ?? [])].sort((a, b) => b.count - a.count).map((c) => ({ key: c.key, label: label(c.key), count: c.count }));
}

function ProviderRowName({ id }: { id: string }) {
  return <>{useProviderName(id) || id}</>;
}

export function DashboardPage({ me }: { me: Me }) {
  const which = dashboardOf(me);
  const [d, setD] = useState<Dashboard | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    document.title = `${which?.title ?? 'Dashboard'} - Attendance Service Portal`;
  }, [which?.title]);
  useEffect(() => {
    if (!which) return;
    void load(which.path).then(setD, (e: unknown) => setProblem(asProblem(e)));
  }, [which?.path]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (!isProvider(me) || !me.organisation.id) return;
    void provider(me.organisation.id).then((p) => setNames(new Map((p?.staff ?? []).map((s) => [s.userId, s.displayName ?? s.userId]))));
  }, [me]);
  if (!which) {
    return (
      <>
        <h1 tabIndex={-1}>Dashboard</h1>
        <p>Your role has no dashboard.</p>
      </>
    );
  }
  const f = d?.figures;
  const statusRows = f ? STATUS_ORDER.map((s) => f.byStatus.find((r) => r.status === s) ?? { status: s, ca: 0, nen: 0 }) : [];
  const active = f ? f.total - (f.byStatus.find((r) => r.status === 'closed')?.ca ?? 0) - (f.byStatus.find((r) => r.status === 'closed')?.nen ?? 0) : 0;
  return (
    <>
      <h1 tabIndex={-1}>{which.title}</h1>
      <ProblemBanner problem={problem} />
      {!d && !problem && <p role="status">Loading the figures…</p>}
      {d && f && (
        <div data-testid="dashboard">
          <p className="hint">
            As at {formatDate(d.asOf)}. Figures count cases, never name anyone; they are brought up to date within moments of each change.
            {d.scope.kind === 'primary_contact' && ' These are the cases you are the School Primary Contact for.'}
          </p>
          <dl className="summary-figures">
            <div>
              <dt>Cases</dt>
              <dd>{f.total}</dd>
            </div>
            <div>
              <dt>Active (not closed)</dt>
              <dd>{active}</dd>
            </div>
            <div>
              <dt>Waiting in the Provider Queue</dt>
              <dd>
                {f.queue.cases}
                {f.queue.averageDaysWaiting !== undefined && <span className="count"> (on average {f.queue.averageDaysWaiting} days since referral)</span>}
              </dd>
            </div>
          </dl>

          <section aria-labelledby="dash-status">
            <h2 id="dash-status">Cases by status</h2>
            <BarTable
              caption="Cases by status and type"
              head="Status"
              columns={['CA', 'NEN']}
              rows={statusRows.map((r) => ({ key: r.status, label: STATUS_LABEL[r.status], values: [r.ca, r.nen], bar: r.ca + r.nen }))}
              empty="No cases yet."
            />
          </section>

          <section aria-labelledby="dash-sla">
            <h2 id="dash-sla">SLA clocks</h2>
            <p className="hint">Of the cases a provider has held: the school meeting is due within 5 working days of referral, the meeting with the ākonga and whānau within 10. Breached: reported by the nightly check and still not met.</p>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">SLA clocks</caption>
                <thead>
                  <tr>
                    <th scope="col">Clock</th>
                    <th scope="col">Met on time</th>
                    <th scope="col">Met late</th>
                    <th scope="col">Due</th>
                    <th scope="col">Breached</th>
                    <th scope="col">Closed without</th>
                    <th scope="col">On time</th>
                  </tr>
                </thead>
                <tbody>
                  {f.sla.map((r) => {
                    const decided = r.met + r.metLate + r.breached + r.notMet;
                    return (
                      <tr key={r.kind}>
                        <th scope="row">{SLA_LABEL[r.kind]}</th>
                        <td>{r.met}</td>
                        <td>{r.metLate}</td>
                        <td>{r.due}</td>
                        <td>{r.breached}</td>
                        <td>{r.notMet}</td>
                        <td>{decided ? `${Math.round((r.met / decided) * 100)} %` : '–'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </section>

          {d.fund && (
            <section aria-labelledby="dash-fund">
              <h2 id="dash-fund">Unmet Basic Needs Fund {d.fund.contractYear}</h2>
              <p>
                {formatCents(d.fund.spentCents)} spent of {formatCents(d.fund.capCents)} (3 % of the contract); {formatCents(d.fund.remainingCents)} left.
              </p>
              <Bar value={d.fund.spentCents} max={d.fund.capCents} />
            </section>
          )}

          {f.caseloads && (
            <section aria-labelledby="dash-caseloads">
              <h2 id="dash-caseloads">Caseload per Case Manager</h2>
              <CountTable caption="Caseload per Case Manager" label="Case Manager" rows={counts(f.caseloads, (k) => names.get(k) ?? k)} />
            </section>
          )}
          {f.barriers && (
            <section aria-labelledby="dash-barriers">
              <h2 id="dash-barriers">Barriers identified</h2>
              <CountTable caption="Barriers identified" label="Barrier" rows={counts(f.barriers, (k) => BARRIER_LABEL[k] ?? k)} />
            </section>
          )}
          {f.providers && (
            <section aria-labelledby="dash-providers">
              <h2 id="dash-providers">Providers of the region</h2>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Providers of the region</caption>
                  <thead>
                    <tr>
                      <th scope="col">Provider</th>
                      <th scope="col">Active</th>
                      <th scope="col">In the queue</th>
                      <th scope="col">Average days waiting</th>
                      <th scope="col">Closed</th>
                      <th scope="col">SLA breached</th>
                    </tr>
                  </thead>
                  <tbody>
                    {f.providers.map((p) => (
                      <tr key={p.providerId}>
                        <th scope="row">
                          <ProviderRowName id={p.providerId} />
                        </th>
                        <td>{p.active}</td>
                        <td>{p.queue}</td>
                        <td>{p.averageDaysWaiting ?? '–'}</td>
                        <td>{p.closed}</td>
                        <td>{p.breached}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          )}
          {d.capacity && (
            <section aria-labelledby="dash-capacity">
              <h2 id="dash-capacity">{d.capacity.year} against the service’s capacity</h2>
              <p>
                CA: {d.capacity.referredCa} of about {d.capacity.caPerYear.toLocaleString('en-NZ')} a year. NEN: {d.capacity.referredNen} of about {d.capacity.nenPerYear.toLocaleString('en-NZ')} a year.
              </p>
            </section>
          )}
          {f.regions && (
            <section aria-labelledby="dash-regions">
              <h2 id="dash-regions">Active cases by region</h2>
              <CountTable caption="Active cases by region" label="Region" rows={counts(f.regions, (k) => k)} />
            </section>
          )}
          {f.catchments && (
            <section aria-labelledby="dash-catchments">
              <h2 id="dash-catchments">Active cases by catchment</h2>
              <CountTable caption="Active cases by catchment" label="Catchment" rows={counts(f.catchments, (k) => k)} />
            </section>
          )}

          <section aria-labelledby="dash-closures">
            <h2 id="dash-closures">Closures by reason</h2>
            <CountTable caption="Closures by reason" label="Reason" rows={counts(f.closures, (k) => CLOSE_REASON[k] ?? k)} />
          </section>

          <section aria-labelledby="dash-download">
            <h2 id="dash-download">Download</h2>
            <p className="hint">These figures as a spreadsheet (CSV), a line per figure. They count cases and name no one.</p>
            <DownloadButton label="Download these figures (CSV)" fetch={(c) => get(c, which.path, 'csv')} />
          </section>

          <section aria-labelledby="dash-terms">
            <h2 id="dash-terms">By term</h2>
            <BarTable
              caption="Cases referred and closed per term"
              head="Term"
              columns={['Referred CA', 'Referred NEN', 'Closed']}
              rows={f.terms.map((t) => ({ key: t.term, label: t.term.replace('-T', ' term '), values: [t.referredCa, t.referredNen, t.closed], bar: t.referredCa + t.referredNen }))}
              empty="No cases yet."
            />
          </section>
        </div>
      )}
    </>
  );
}
