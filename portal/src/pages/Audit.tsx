import { useEffect } from 'react';
import { asProblem, type Me } from '../api/client';
import { ProblemBanner } from '../components';
import { useLoad } from '../data';
import { ROLE_LABEL, formatDateTime } from '../format';
import { Link } from '../router';

export function AuditPage({ me, id }: { me: Me; id: string }) {
  useEffect(() => {
    document.title = 'Audit trail - Attendance Service Portal';
  }, []);
  const trail = useLoad(async (c) => {
    const { data, error, response } = await c.GET('/cases/{id}/audit', { params: { path: { id } } });
    if (error || !data) throw asProblem(error, response.status);
    return data;
  }, [id, me.userId]);
  return (
    <>
      <p className="breadcrumb">
        <Link href={`/cases/${id}`}>Back to the case</Link>
      </p>
      <h1 tabIndex={-1}>Audit trail</h1>
      <p className="lead">Every time someone viewed or changed case {id}. It records who and when, never the information itself.</p>
      <ProblemBanner problem={trail.problem} />
      {trail.data && (
        <>
          <p data-testid="chain" className={trail.data.chain?.intact ? 'notice' : 'warning'}>
            {trail.data.chain?.intact ? `The record is intact: all ${trail.data.chain.entries ?? 0} changes and ${trail.data.chain.reads ?? 0} views check out.` : `The record has been tampered with: ${trail.data.chain?.problem ?? 'the hash chain does not verify'}.`}
          </p>
          <h2>Changes</h2>
          <AuditTable label="Changes to the case, oldest first" rows={(trail.data.entries ?? []).map((e) => ({ key: `c${e.seq}`, ...e }))} />
          <h2>Who viewed it</h2>
          <p>
            Each time someone opened the case or one of its parts. A list or search that showed several cases is recorded once, naming
            them all, in the reader&apos;s own record; the verify-audit command checks those.
          </p>
          <AuditTable label="Views of the case, oldest first" rows={(trail.data.reads ?? []).map((r) => ({ key: `${r.chain}-${r.seq}`, ...r }))} />
        </>
      )}
    </>
  );
}

type AuditRow = { key: string; at: string; userId: string; role: string; organisation: string; action: string; requestId: string };

function AuditTable({ label, rows }: { label: string; rows: AuditRow[] }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      <table>
        <caption className="visually-hidden">{label}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Role</th>
            <th scope="col">Organisation</th>
            <th scope="col">Action</th>
            <th scope="col">Request id</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.key}>
              <td>{formatDateTime(e.at)}</td>
              <td>{e.userId}</td>
              <td>{ROLE_LABEL[e.role as Me['role']] ?? e.role}</td>
              <td>{e.organisation}</td>
              <td>{e.action}</td>
              <td className="mono">{e.requestId}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
