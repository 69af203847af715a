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
            {trail.data.chain?.intact ? `The record is intact: all ${trail.data.chain.entries ?? 0} entries check out.` : `The record has been tampered with: ${trail.data.chain?.problem ?? 'the hash chain does not verify'}.`}
          </p>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
            <table>
              <caption className="visually-hidden">Audit entries, oldest first</caption>
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
                {(trail.data.entries ?? []).map((e) => (
                  <tr key={e.seq}>
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
        </>
      )}
    </>
  );
}
