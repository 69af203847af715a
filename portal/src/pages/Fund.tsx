import { useEffect, useState, type FormEvent } from 'react';
import { api, asProblem, type Case, type Me, type Problem, type Schemas, type TimelineEntry } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, Select, TextInput } from '../components';
import { FUND_LABEL, formatCents, formatDate, parseDollars } from '../format';
import { todayNz } from './CaseActions';
import { useFormErrors } from './Escalations';

type Spend = Schemas['FundSpend'];
type Summary = Schemas['FundSummary'];

/** A problem on one field, found before anything is sent. */
function fieldProblem(field: string, message: string): Problem {
  return { type: 'about:blank', title: 'Invalid request', status: 400, detail: message, errors: [{ field, message }] } as Problem;
}

const AMOUNT_HINT = 'In dollars and cents, for example 45.50';
const NOT_AN_AMOUNT = 'Enter the amount in dollars and cents, for example 45.50';

/**
 * The Unmet Basic Needs Fund on a case (issue 15): "Providers may use up to 3% of their contract
 * funding to help meet unmet basic needs when these are significantly affecting attendance" (the
 * guide). The provider's staff record spends and refunds; the panel shows the provider's spend
 * against its cap for the contract year. Never shown to the school.
 */
export function Fund({ me, kase, provider, files, onDone }: { me: Me; kase: Case; provider: boolean; files: TimelineEntry[]; onDone: () => void }) {
  const open = kase.status !== 'closed';
  const spends = kase.fundSpends ?? [];
  const [summary, setSummary] = useState<Summary | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!kase.providerId) return;
    let live = true;
    void (async () => {
      const { data } = await (await api()).GET('/providers/{id}/fund', { params: { path: { id: kase.providerId! } } });
      if (live) setSummary(data ?? null);
    })();
    return () => {
      live = false;
    };
  }, [kase.providerId, tick, me.userId]);
  const finished = (text: string) => {
    setDone(text);
    setTick((t) => t + 1);
    onDone();
  };
  return (
    <section aria-labelledby="fund" className="panel">
      <h2 id="fund">Unmet Basic Needs Fund</h2>
      <p className="hint">Seen by the provider and the Ministry only; never shared with the school.</p>
      {done && <Notice>{done}</Notice>}
      {summary && (
        <p aria-label="Fund balance">
          {summary.contractCents == null
            ? 'The Ministry has not recorded this provider’s contract value yet.'
            : `${summary.contractYear}: ${formatCents(summary.spentCents)} spent of ${formatCents(summary.capCents)} (3 % of the contract); ${formatCents(summary.remainingCents)} left.`}
        </p>
      )}
      {spends.length === 0 ? (
        <p>Nothing spent from the fund on this case.</p>
      ) : (
        <ul aria-label="Fund spends">
          {spends.map((s) => (
            <li key={s.id}>
              <strong>{FUND_LABEL[s.category] ?? s.category}</strong>: {formatCents(s.amountCents)} on {formatDate(s.on)}
              {s.note ? ` — ${s.note}` : ''}
              {s.refundedCents ? <span className="hint"> ({formatCents(s.refundedCents)} refunded)</span> : null}
              {s.receiptFileId ? <span className="hint"> (receipt attached)</span> : null}
              {open && provider && s.amountCents - (s.refundedCents ?? 0) > 0 && <Refund kase={kase} spend={s} onDone={finished} />}
            </li>
          ))}
        </ul>
      )}
      {open && provider && <SpendForm kase={kase} files={files} onDone={finished} />}
    </section>
  );
}

function SpendForm({ kase, files, onDone }: { kase: Case; files: TimelineEntry[]; onDone: (text: string) => void }) {
  const [category, setCategory] = useState('clothing');
  const [amount, setAmount] = useState('');
  const [on, setOn] = useState(todayNz());
  const [note, setNote] = useState('');
  const [receipt, setReceipt] = useState('');
  const f = useFormErrors('spend', { category: 'What it paid for', amountCents: 'Amount', on: 'Spent on', note: 'Note', receiptFileId: 'Receipt' });
  const receipts: [string, string][] = [['', 'No receipt attached'], ...files.flatMap((e) => (e.type === 'file' ? [[e.fileId, e.fileName] as [string, string]] : []))];
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const cents = parseDollars(amount);
    if (cents === null) return f.show(fieldProblem('amountCents', NOT_AN_AMOUNT));
    const body: Schemas['FundSpendRequest'] = {
      category: category as Schemas['FundCategory'],
      amountCents: cents,
      on,
      note: note.trim() || undefined,
      receiptFileId: receipt || undefined,
    };
    const { error, response } = await (await api()).POST('/cases/{id}/fund-spends', { params: { path: { id: kase.id } }, body });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setAmount('');
    setNote('');
    setReceipt('');
    onDone(`Spend recorded: ${formatCents(cents)} on ${(FUND_LABEL[category] ?? category).toLowerCase()}.`);
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="spend-heading">
      <h3 id="spend-heading">Record a spend</h3>
      <ErrorSummary items={f.items} />
      <ProblemBanner problem={f.problem} />
      <Select path="spend.category" label="What it paid for" value={category} onChange={setCategory} error={f.err('category')} options={Object.entries(FUND_LABEL) as [string, string][]} />
      <TextInput path="spend.amountCents" label="Amount (NZ$)" hint={AMOUNT_HINT} inputMode="text" className="w-10" value={amount} onChange={setAmount} error={f.err('amountCents')} />
      <TextInput path="spend.on" label="Spent on" hint="Year, month and day, for example 2026-12-02" className="w-10" value={on} onChange={setOn} error={f.err('on')} />
      <TextInput path="spend.note" label="Note (required for Other)" value={note} onChange={setNote} error={f.err('note')} />
      <Select path="spend.receiptFileId" label="Receipt (a file on this case)" value={receipt} onChange={setReceipt} error={f.err('receiptFileId')} options={receipts} />
      <button type="submit" className="button">
        Record the spend
      </button>
    </form>
  );
}

function Refund({ kase, spend, onDone }: { kase: Case; spend: Spend; onDone: (text: string) => void }) {
  const [amount, setAmount] = useState('');
  const [on, setOn] = useState(todayNz());
  const form = `refund-${spend.id}`;
  const f = useFormErrors(form, { amountCents: 'Amount refunded', on: 'Refunded on', note: 'Note' });
  const what = `${FUND_LABEL[spend.category] ?? spend.category} ${formatCents(spend.amountCents)}`;
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const cents = parseDollars(amount);
    if (cents === null) return f.show(fieldProblem('amountCents', NOT_AN_AMOUNT));
    const { error, response } = await (await api()).POST('/cases/{id}/fund-spends/{spendId}/refunds', {
      params: { path: { id: kase.id, spendId: spend.id } },
      body: { amountCents: cents, on },
    });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setAmount('');
    onDone(`Refund recorded: ${formatCents(cents)} back to the fund.`);
  };
  return (
    <details>
      <summary>Record a refund</summary>
      <form onSubmit={submit} noValidate aria-label={`Refund of ${what}`}>
        <ErrorSummary items={f.items} />
        <ProblemBanner problem={f.problem} />
        <TextInput path={`${form}.amountCents`} label="Amount refunded (NZ$)" hint={AMOUNT_HINT} className="w-10" value={amount} onChange={setAmount} error={f.err('amountCents')} />
        <TextInput path={`${form}.on`} label="Refunded on" className="w-10" value={on} onChange={setOn} error={f.err('on')} />
        <button type="submit" className="button secondary">
          Record the refund
        </button>
      </form>
    </details>
  );
}
