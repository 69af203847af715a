import { useEffect, useState, type FormEvent } from 'react';
import { api, asProblem, type Me, type Schemas } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, TextArea, TextInput } from '../components';
import { formatDate, isProvider } from '../format';
import { school } from '../directory';
import { useFormErrors } from './Escalations';

type Initiative = Schemas['Initiative'];

/**
 * Provider initiatives for schools and groups of students (issue 15): "Providers may also run
 * targeted projects or initiatives to support improved attendance for ākongā" (the guide). The
 * provider's staff record them and their outcome; a school's staff see those involving their
 * school.
 */
export function Initiatives({ me }: { me: Me }) {
  const [providers, setProviders] = useState<string[]>([]);
  const [items, setItems] = useState<Initiative[]>([]);
  const [tick, setTick] = useState(0);
  const [done, setDone] = useState<string | null>(null);
  const staff = isProvider(me);
  useEffect(() => {
    const org = me.organisation.id;
    if (!org) return;
    if (staff) setProviders([org]);
    else
      void school(org).then((s) => setProviders([s?.provider?.id, s?.inSchoolProvision?.id].filter((p): p is string => !!p)));
  }, [me.organisation.id, staff]);
  useEffect(() => {
    let live = true;
    void (async () => {
      const c = await api();
      const all: Initiative[] = [];
      for (const p of providers) {
        const { data } = await c.GET('/providers/{id}/initiatives', { params: { path: { id: p } } });
        all.push(...(data?.items ?? []));
      }
      if (live) setItems(all);
    })();
    return () => {
      live = false;
    };
  }, [providers, tick]);
  const finished = (text: string) => {
    setDone(text);
    setTick((t) => t + 1);
  };
  if (!staff && items.length === 0) return null;
  return (
    <section aria-labelledby="initiatives" className="panel">
      <h2 id="initiatives">{staff ? 'Initiatives for schools and groups of students' : 'Provider initiatives involving your school'}</h2>
      {done && <Notice>{done}</Notice>}
      {items.length === 0 ? (
        <p>No initiatives recorded yet.</p>
      ) : (
        <ul aria-label="Initiatives">
          {items.map((i) => (
            <li key={i.id}>
              <strong>{i.title}</strong> ({formatDate(i.startsOn)}
              {i.endsOn ? ` to ${formatDate(i.endsOn)}` : ''}): {i.purpose}
              {i.group && <span className="hint"> For: {i.group}.</span>} <span className="hint">Schools: {i.schoolIds.join(', ')}.</span>
              {i.outcome ? <p className="tl-text">Outcome: {i.outcome}</p> : staff && <Outcome me={me} initiative={i} onDone={finished} />}
            </li>
          ))}
        </ul>
      )}
      {staff && <Start me={me} onDone={finished} />}
    </section>
  );
}

function Start({ me, onDone }: { me: Me; onDone: (text: string) => void }) {
  const [title, setTitle] = useState('');
  const [purpose, setPurpose] = useState('');
  const [schools, setSchools] = useState('');
  const [group, setGroup] = useState('');
  const [startsOn, setStartsOn] = useState('');
  const [endsOn, setEndsOn] = useState('');
  const f = useFormErrors('initiative', { title: 'Title', purpose: 'Purpose', schoolIds: 'Schools involved', group: 'Group of students', startsOn: 'Starts on', endsOn: 'Ends on' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['InitiativeRequest'] = {
      title,
      purpose,
      schoolIds: schools.split(/[\s,]+/).filter(Boolean),
      group: group.trim() || undefined,
      startsOn,
      endsOn: endsOn.trim() || undefined,
    };
    const { error, response } = await (await api()).POST('/providers/{id}/initiatives', { params: { path: { id: me.organisation.id ?? '' } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setTitle('');
    setPurpose('');
    setGroup('');
    onDone(`Initiative recorded: ${title.trim()}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="initiative-heading">
      <h3 id="initiative-heading">Record an initiative</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <TextInput path="initiative.title" label="Title" value={title} onChange={setTitle} error={f.err('title')} />
      <TextArea path="initiative.purpose" label="Purpose" value={purpose} onChange={setPurpose} error={f.err('purpose')} rows={2} />
      <TextInput path="initiative.schoolIds" label="Schools involved" hint="School numbers, separated by commas, for example 1001, 1085" value={schools} onChange={setSchools} error={f.err('schoolIds')} />
      <TextInput path="initiative.group" label="Group of students (optional)" hint="Describe what they share, never who they are" value={group} onChange={setGroup} error={f.err('group')} />
      <TextInput path="initiative.startsOn" label="Starts on" hint="Year, month and day, for example 2027-02-01" className="w-10" value={startsOn} onChange={setStartsOn} error={f.err('startsOn')} />
      <TextInput path="initiative.endsOn" label="Ends on (optional)" className="w-10" value={endsOn} onChange={setEndsOn} error={f.err('endsOn')} />
      <button type="submit" className="button">
        Record the initiative
      </button>
    </form>
  );
}

function Outcome({ me, initiative, onDone }: { me: Me; initiative: Initiative; onDone: (text: string) => void }) {
  const [outcome, setOutcome] = useState('');
  const form = `outcome-${initiative.id}`;
  const f = useFormErrors(form, { outcome: 'Outcome', endsOn: 'Ends on', version: 'Version' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const { error, response } = await (await api()).PUT('/providers/{id}/initiatives/{initiativeId}', {
      params: { path: { id: me.organisation.id ?? '', initiativeId: initiative.id } },
      body: { outcome, version: initiative.version },
    });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    onDone(`Outcome recorded: ${initiative.title}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Outcome of ${initiative.title}`}>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <TextArea path={`${form}.outcome`} label="What it achieved" value={outcome} onChange={setOutcome} error={f.err('outcome')} rows={2} />
      <button type="submit" className="button secondary">
        Record the outcome
      </button>
    </form>
  );
}
