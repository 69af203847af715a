import { useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Schemas } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, Select, TextArea, TextInput } from '../components';
import { formatDate } from '../format';
import { todayNz } from './CaseActions';
import { useFormErrors } from './Escalations';

type Item = Schemas['PlanItem'];

export const PLAN_KIND: Record<string, string> = {
  goal: 'Goal',
  action: 'Step',
  gradual_return: 'Gradual return',
  timetable_change: 'Timetable change',
  transition_planning: 'Transition planning (15 or older)',
  youth_service_referral: 'Youth Service or MSD youth coach referral (15 or older)',
};
export const PLAN_OWNER: Record<string, string> = { school: 'The school', provider: 'The provider', whanau: 'The whānau', agency: 'Another agency' };
const STATE: Record<string, string> = { open: 'Open', done: 'Done', dropped: 'Dropped' };

/**
 * The support plan (issue 15): goals and the steps towards them, each step with who carries it
 * out and when it is due, and the plan's reviews. Kept by the case's provider staff; the school
 * sees it (it is the school's plan too).
 */
export function Plan({ kase, canKeep, onDone }: { kase: Case; canKeep: boolean; onDone: () => void }) {
  const items = kase.plan ?? [];
  const goals = items.filter((i) => i.kind === 'goal');
  const loose = items.filter((i) => i.kind !== 'goal' && !i.goalId);
  const [done, setDone] = useState<string | null>(null);
  const finished = (text: string) => {
    setDone(text);
    onDone();
  };
  const line = (i: Item) => (
    <li key={i.id}>
      <strong>{PLAN_KIND[i.kind] ?? i.kind}</strong>: {i.text}
      {i.owner && ` — ${PLAN_OWNER[i.owner]}`}
      {i.due && `, due ${formatDate(i.due)}`}
      {i.reviewOn && `, review ${formatDate(i.reviewOn)}`} <span className="hint">({STATE[i.state]})</span>
      {canKeep && i.state === 'open' && <Settle kase={kase} item={i} onDone={finished} />}
      {i.kind === 'goal' && items.some((s) => s.goalId === i.id) && (
        <ul aria-label={`Steps towards ${i.text}`}>{items.filter((s) => s.goalId === i.id).map(line)}</ul>
      )}
    </li>
  );
  return (
    <section aria-labelledby="plan" className="panel">
      <h2 id="plan">Support plan</h2>
      <p className="hint">Shared with the school: it is the plan the school, the whānau and the provider work to together.</p>
      {done && <Notice>{done}</Notice>}
      {items.length === 0 ? <p>No support plan yet.</p> : <ul aria-label="Goals and steps">{[...goals, ...loose].map(line)}</ul>}
      {(kase.planReviews ?? []).length > 0 && (
        <>
          <h3>Reviews</h3>
          <ul aria-label="Plan reviews">
            {(kase.planReviews ?? []).map((r) => (
              <li key={r.id}>
                {formatDate(r.heldOn)}: {r.note}
                {r.nextReviewOn && <span className="hint"> (next review {formatDate(r.nextReviewOn)})</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {canKeep && <AddItem kase={kase} goals={goals.filter((g) => g.state === 'open')} onDone={finished} />}
      {canKeep && items.length > 0 && <Review kase={kase} onDone={finished} />}
    </section>
  );
}

function Settle({ kase, item, onDone }: { kase: Case; item: Item; onDone: (text: string) => void }) {
  const [problem, setProblem] = useState<ReturnType<typeof asProblem> | null>(null);
  const settle = async (state: 'done' | 'dropped') => {
    const { error, response } = await (await api()).PUT('/cases/{id}/plan/items/{itemId}', { params: { path: { id: kase.id, itemId: item.id } }, body: { state } });
    if (error) return setProblem(asProblem(error, response.status));
    onDone(`${PLAN_KIND[item.kind] ?? item.kind} marked ${state}: ${item.text}`);
  };
  return (
    <span className="inline-actions">
      <ProblemBanner problem={problem} />
      <button type="button" className="button secondary small" onClick={() => void settle('done')} aria-label={`Mark done: ${item.text}`}>
        Done
      </button>
      <button type="button" className="button secondary small" onClick={() => void settle('dropped')} aria-label={`Drop: ${item.text}`}>
        Drop
      </button>
    </span>
  );
}

function AddItem({ kase, goals, onDone }: { kase: Case; goals: Item[]; onDone: (text: string) => void }) {
  const [kind, setKind] = useState('goal');
  const [text, setText] = useState('');
  const [goalId, setGoalId] = useState('');
  const [owner, setOwner] = useState('school');
  const [due, setDue] = useState(todayNz());
  const [reviewOn, setReviewOn] = useState('');
  const f = useFormErrors('plan', { kind: 'What to add', text: 'Description', goalId: 'Towards the goal', owner: 'Who does it', due: 'Due', reviewOn: 'Review on' });
  const isGoal = kind === 'goal';
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const body: Schemas['PlanItemRequest'] = {
      kind: kind as Schemas['PlanItemKind'],
      text,
      goalId: !isGoal && goalId ? goalId : undefined,
      owner: isGoal ? undefined : (owner as Schemas['PlanOwner']),
      due: isGoal ? undefined : due,
      reviewOn: reviewOn.trim() || undefined,
    };
    const { error, response } = await (await api()).POST('/cases/{id}/plan/items', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setText('');
    setReviewOn('');
    onDone(`${PLAN_KIND[kind]} added to the plan.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="plan-add-heading">
      <h3 id="plan-add-heading">Add to the plan</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="plan.kind" label="What to add" value={kind} onChange={setKind} error={f.err('kind')} options={Object.entries(PLAN_KIND) as [string, string][]} />
      <TextInput path="plan.text" label="Description" value={text} onChange={setText} error={f.err('text')} />
      {!isGoal && (
        <>
          <Select path="plan.goalId" label="Towards the goal" value={goalId} onChange={setGoalId} error={f.err('goalId')} options={[['', 'No particular goal'], ...goals.map((g) => [g.id, g.text] as [string, string])]} />
          <Select path="plan.owner" label="Who does it" value={owner} onChange={setOwner} error={f.err('owner')} options={Object.entries(PLAN_OWNER) as [string, string][]} />
          <TextInput path="plan.due" label="Due" hint="Year, month and day, for example 2026-12-02" className="w-10" value={due} onChange={setDue} error={f.err('due')} />
        </>
      )}
      <TextInput path="plan.reviewOn" label="Review on (optional)" className="w-10" value={reviewOn} onChange={setReviewOn} error={f.err('reviewOn')} />
      <button type="submit" className="button">
        Add to the plan
      </button>
    </form>
  );
}

function Review({ kase, onDone }: { kase: Case; onDone: (text: string) => void }) {
  const [heldOn, setHeldOn] = useState(todayNz());
  const [note, setNote] = useState('');
  const [next, setNext] = useState('');
  const f = useFormErrors('review', { heldOn: 'Held on', note: 'What the review found', nextReviewOn: 'Next review' });
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const { error, response } = await (await api()).POST('/cases/{id}/plan/reviews', {
      params: { path: { id: kase.id } },
      body: { heldOn, note, nextReviewOn: next.trim() || undefined },
    });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setNote('');
    setNext('');
    onDone('Plan review recorded.');
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="plan-review-heading">
      <h3 id="plan-review-heading">Record a plan review</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <TextInput path="review.heldOn" label="Held on" className="w-10" value={heldOn} onChange={setHeldOn} error={f.err('heldOn')} />
      <TextArea path="review.note" label="What the review found" value={note} onChange={setNote} error={f.err('note')} rows={2} />
      <TextInput path="review.nextReviewOn" label="Next review (optional)" className="w-10" value={next} onChange={setNext} error={f.err('nextReviewOn')} />
      <button type="submit" className="button secondary">
        Record the review
      </button>
    </form>
  );
}
