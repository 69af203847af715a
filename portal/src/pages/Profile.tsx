import { useEffect, useState, type FormEvent } from 'react';
import { api, asProblem, type Me, type Schemas } from '../api/client';
import { ErrorSummary, Notice, ProblemBanner, Radios } from '../components';
import { useFormErrors } from './Escalations';

type Preference = Schemas['EmailPreference'];

const CHOICES: [Preference, string][] = [
  ['each_update', 'An email for every update (as it happens)'],
  ['daily_digest', 'One summary email a day, early each morning'],
];

/**
 * The caller's email updates (issue 15): School Primary Contacts, Attendance Leads and Case
 * Managers choose one email per update or one daily summary. Either way no email names a child.
 */
export function ProfilePage({ me, onSaved }: { me: Me; onSaved: () => void }) {
  const [choice, setChoice] = useState<Preference>(me.emailPreference ?? 'each_update');
  const [saved, setSaved] = useState<Preference | null>(null);
  const f = useFormErrors('profile', { emailPreference: 'Email updates' });
  useEffect(() => {
    document.title = 'Your email updates - Attendance Service Portal';
  }, []);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setSaved(null);
    const { data, error, response } = await (await api()).PUT('/me/email-preference', { body: { emailPreference: choice } });
    if (error) return f.show(asProblem(error, response.status));
    f.clear();
    setSaved(data.emailPreference);
    onSaved();
  };
  return (
    <>
      <h1 tabIndex={-1}>Your email updates</h1>
      {!me.can.chooseEmailDigest ? (
        <p>Case emails go to School Primary Contacts, Attendance Leads and Case Managers. Your role gets none, so there is nothing to choose here.</p>
      ) : (
        <>
          <p>We email you when something happens on a case you are the School Primary Contact or Case Manager for. Emails never include a student’s details: sign in to see them.</p>
          {saved && (
            <Notice>
              {saved === 'daily_digest'
                ? 'Saved. From now on you get one summary email a day, with a link to each case that had updates.'
                : 'Saved. From now on you get an email for every update. Updates already waiting for your summary are still sent in it.'}
            </Notice>
          )}
          <form onSubmit={submit} noValidate aria-labelledby="email-updates">
            <ErrorSummary items={f.items} />
            <ProblemBanner problem={f.problem} />
            <h2 id="email-updates" className="visually-hidden">
              Email updates
            </h2>
            <Radios
              path="profile.emailPreference"
              legend="How would you like to hear about updates?"
              hint="Emails to your provider’s shared mailbox, and reminders about drafts, are always sent at once."
              value={choice}
              onChange={(v) => setChoice(v as Preference)}
              error={f.err('emailPreference')}
              options={CHOICES}
            />
            <button type="submit" className="button">
              Save
            </button>
          </form>
        </>
      )}
    </>
  );
}
