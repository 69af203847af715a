import { expect } from '@playwright/test';
import { birthDate, call, caseInQueue, expectAccessible, shot, signIn, tokenFor, uniqueName, test } from './support';

test('provider admin: the queue oldest first with its age, assign a Case Manager', async ({ page }) => {
  const older = uniqueName('Older');
  const newer = uniqueName('Newer');
  const a = await caseInQueue(older);
  await caseInQueue(newer);
  await signIn(page, 'admin-p01');
  const queue = page.getByRole('list', { name: 'Provider Queue' });
  await expect(queue.getByRole('link', { name: older })).toBeVisible();
  const names = await queue.locator('.case-card h3').allTextContents();
  expect(names.indexOf(older)).toBeLessThan(names.indexOf(newer));
  await expect(queue.locator('.case-card').filter({ hasText: older })).toContainText(/\((today|\d+ days?) ago\)/);
  await expectAccessible(page, 'provider home');
  await shot(page, 'provider-queue');

  await queue.getByRole('link', { name: older }).click();
  await expect(page).toHaveURL(new RegExp(`/cases/${a}$`));
  const work = page.getByRole('region', { name: 'Work the case' });
  await work.getByLabel('Case Manager', { exact: true }).selectOption({ label: 'Casey Specimen (Case Manager)' });
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The case is now Open' })).toBeVisible();
  await expect(page.getByTestId('case-summary')).toContainText('cm-p01');
  await expect(page.locator('.timeline')).toContainText('Case Manager cm-p01 assigned');
});

test('Case Manager workspace: meeting, comments shared or not, health information, transition, close', async ({ page }) => {
  const name = uniqueName('Workspace');
  const id = await caseInQueue(name);
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Service levels' })).toBeVisible();
  await expect(page.getByText(/Case Manager meets the school/)).toBeVisible();
  // a Case Manager assigns the case to themselves
  const work = page.getByRole('region', { name: 'Work the case' });
  await expect(work.getByText('The case will be assigned to you.')).toBeVisible();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The case is now Open' })).toBeVisible();

  // it is now among the Case Manager's own cases on the home page
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(page.getByRole('list', { name: 'Assigned to you' }).getByRole('link', { name })).toBeVisible();
  await page.getByRole('list', { name: 'Assigned to you' }).getByRole('link', { name }).click();

  // record the school meeting: its SLA clock stops
  const rec = page.getByRole('region', { name: 'Record a meeting or call' });
  await rec.getByLabel('What happened').selectOption('school_meeting');
  await rec.getByLabel('Who attended (optional)').fill('Alex Example\nCasey Specimen');
  await rec.getByLabel('Notes (optional)').fill('Agreed a plan with the school.');
  await rec.getByRole('button', { name: 'Record it' }).click();
  await expect(rec.getByRole('status')).toContainText('Meeting with the school recorded');
  await expect(page.locator('.sla-ok').first()).toContainText('Met on');

  // a private comment and a shared one
  await page.getByLabel('Comment', { exact: true }).fill('Private note for the provider team.');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'not shared with the school' })).toBeVisible();
  await page.getByLabel('Comment', { exact: true }).fill('Shared: first hui went well.');
  await page.getByLabel('Share this comment with the school').check();
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'shared with the school.' })).toBeVisible();
  const tl = page.locator('.timeline li');
  await expect(tl.filter({ hasText: 'Private note' })).toContainText('Not shared with school');
  await expect(tl.filter({ hasText: 'first hui' })).toContainText('Shared with school');

  // restricted information
  await page.getByLabel('Add health information').fill('Asthma: inhaler at school.');
  await page.getByRole('button', { name: 'Add health information' }).click();
  await expect(page.locator('.sensitive')).toContainText('Asthma: inhaler at school.');
  // a file kept from the school
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'Provider assessment.txt', mimeType: 'text/plain', buffer: Buffer.from('Internal.\n') });
  await page.getByRole('button', { name: 'Upload file' }).click();
  await expect(page.getByRole('button', { name: /Download Provider assessment\.txt/ })).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('.timeline li').filter({ hasText: 'Provider assessment.txt' })).toContainText('Not shared with school');
  await expectAccessible(page, 'case workspace');
  await shot(page, 'provider-case');

  // the school sees the shared comment, not the private one nor the health information
  const lead = await tokenFor('lead-1001');
  const timeline = await call(lead, 'GET', `/cases/${id}/timeline`);
  const texts = JSON.stringify(timeline.body);
  expect(texts).toContain('first hui went well');
  expect(texts).not.toContain('Private note');
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  await expect(page.locator('.timeline')).toContainText('first hui went well');
  await expect(page.locator('.timeline')).not.toContainText('Private note');
  await expect(page.locator('.timeline')).not.toContainText('Provider assessment.txt');
  await expect(page.locator('.sensitive')).not.toContainText('Asthma');

  // transition (after a consultation with the school, as the guide asks), then close with a reason
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  await work.getByLabel('Move to Transition').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(work.getByRole('alert')).toContainText('Record a consultation with the school');
  const steps = page.getByRole('region', { name: 'Consultations and escalations' });
  await steps.getByLabel('Before which step').selectOption({ label: 'Moving the case into Transition' });
  await steps.getByRole('button', { name: 'Record the consultation' }).click();
  await expect(steps.getByRole('status')).toContainText('Consultation recorded');
  await expect(steps.getByRole('list', { name: 'Consultations with the school' })).toContainText('Moving the case into Transition');
  await work.getByLabel('Move to Transition').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The case is now Transition' })).toBeVisible();
  await work.getByLabel('Close the case').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(work.getByRole('alert')).toContainText('Choose why the case is closing');
  await work.getByLabel('Attending regularly').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Closed');
  await expect(page.getByText('This case is closed. You can still read it.')).toBeVisible();

  // closed cases are still readable by the school
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  await expect(page.getByTestId('case-summary')).toContainText('Attending regularly');
  await expect(page.locator('.timeline')).toContainText('first hui went well');
});

test('a change made by someone else meanwhile is shown, and the user’s choice is kept', async ({ page }) => {
  const name = uniqueName('Conflict');
  const id = await caseInQueue(name);
  const admin = await tokenFor('admin-p01');
  const before = await call(admin, 'GET', `/cases/${id}`);
  const assigned = await call(admin, 'POST', `/cases/${id}/status`, { action: 'assign', caseManagerId: 'cm-p01' }, { 'if-match': `"${before.body.version}"` });
  expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
  const now = await call(admin, 'GET', `/cases/${id}`);
  expect(now.body.status).toBe('open');

  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const work = page.getByRole('region', { name: 'Work the case' });
  await work.getByLabel('Close the case').check();
  await work.getByLabel('Engaged with school support').check();
  await work.getByLabel('Note (optional, not shown to the school)').fill('Closing after the review hui.');

  // meanwhile the provider admin consults the school and moves it to Transition
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(new Date());
  const consulted = await call(admin, 'POST', `/cases/${id}/consultations`, { about: 'transition', heldOn: today });
  expect(consulted.status, JSON.stringify(consulted.body)).toBe(201);
  const moved = await call(admin, 'POST', `/cases/${id}/status`, { action: 'transition', version: now.body.version + 1 });
  expect(moved.status).toBe(200);

  await work.getByRole('button', { name: 'Save the change' }).click();
  const alert = work.getByRole('alert').filter({ hasText: 'Someone else changed this case' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('Your change was not made');
  await expect(page.getByTestId('case-summary')).toContainText('Transition');
  // what the user chose is still there
  await expect(work.getByLabel('Close the case')).toBeChecked();
  await expect(work.getByLabel('Engaged with school support')).toBeChecked();
  await expect(work.getByLabel('Note (optional, not shown to the school)')).toHaveValue('Closing after the review hui.');
  await expectAccessible(page, 'conflict message');
  // and trying again now succeeds against the current version
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Closed');
});

test('escalation: consult the school, a formal letter, a prosecution referral; the Prosecutions team decides; the school sees the steps, not the words', async ({ page }) => {
  const name = uniqueName('Escalation');
  const id = await caseInQueue(name);
  const admin = await tokenFor('admin-p01');
  const before = await call(admin, 'GET', `/cases/${id}`);
  const assigned = await call(admin, 'POST', `/cases/${id}/status`, { action: 'assign', caseManagerId: 'cm-p01', version: before.body.version });
  expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);

  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const steps = page.getByRole('region', { name: 'Consultations and escalations' });
  // without a consultation the letter is refused, with the reason
  await steps.getByLabel('Step', { exact: true }).selectOption({ label: 'Formal communication to the caregivers' });
  await steps.getByRole('button', { name: 'Record the step' }).click();
  await expect(steps.getByRole('alert')).toContainText('Record a consultation with the school');
  await steps.getByLabel('Before which step').selectOption({ label: 'A formal communication to the caregivers' });
  await steps.getByLabel('Notes (not shown to the school)').fill('Attendance Lead agrees a letter should go.');
  await steps.getByRole('button', { name: 'Record the consultation' }).click();
  await expect(steps.getByRole('status')).toContainText('Consultation recorded');
  await steps.getByLabel('Step', { exact: true }).selectOption({ label: 'Formal communication to the caregivers' });
  await steps.getByLabel('How it was sent').selectOption({ label: 'Letter' });
  await steps.getByRole('button', { name: 'Record the step' }).click();
  await expect(steps.getByRole('status')).toContainText('Recorded: Formal communication to the caregivers');
  await expect(steps.getByRole('list', { name: 'Escalations' })).toContainText('Formal communication to the caregivers');
  // then the prosecution referral: consulted, the regional office told
  await steps.getByLabel('Before which step').selectOption({ label: 'A prosecution referral' });
  await steps.getByRole('button', { name: 'Record the consultation' }).click();
  await expect(steps.getByRole('status')).toContainText('Consultation recorded');
  await steps.getByLabel('Step', { exact: true }).selectOption({ label: 'Referral to the Ministry’s Prosecutions team' });
  await expect(steps.getByLabel('Date the regional office was told')).toBeVisible();
  await steps.getByRole('button', { name: 'Record the step' }).click();
  await expect(steps.getByRole('status')).toContainText('Recorded: Referral to the Ministry’s Prosecutions team');
  await expectAccessible(page, 'consultations and escalations');
  await shot(page, 'escalations');

  // the Prosecutions team: its queue, the decision, the outcome
  await signIn(page, 'prosecutions-1');
  const queue = page.getByRole('list', { name: 'Cases referred for prosecution' });
  await queue.getByRole('link', { name }).click();
  const decide = page.getByRole('region', { name: 'Consultations and escalations' });
  await decide.getByLabel('Accepted').check();
  await decide.getByRole('button', { name: 'Record the decision' }).click();
  await expect(decide.getByRole('status')).toContainText('accepted');
  await expect(decide.getByRole('list', { name: 'Escalations' })).toContainText('Accepted');
  await decide.getByRole('textbox', { name: 'Outcome', exact: true }).fill('Heard in the Youth Court.');
  await decide.getByRole('button', { name: 'Record the outcome' }).click();
  await expect(decide).toContainText('Outcome: Heard in the Youth Court.');
  await expectAccessible(page, 'prosecutions decision');

  // the school sees each step and the decision, not the provider's or the team's words
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  const seen = page.getByRole('region', { name: 'Consultations and escalations' });
  await expect(seen).toContainText('Referral to the Ministry’s Prosecutions team');
  await expect(seen).toContainText('Accepted');
  await expect(page.locator('main')).not.toContainText('Youth Court');
  await expect(page.locator('main')).not.toContainText('agrees a letter');
  await expect(page.locator('.timeline')).toContainText('The provider consulted the school');
});

test('other agencies and agency checks: the provider records and asks, CIT answers; the school sees neither', async ({ page }) => {
  const name = uniqueName('Agency');
  const id = await caseInQueue(name);
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const panel = page.getByRole('region', { name: 'Other agencies' });
  // other needs the agency's name
  await panel.getByLabel('Agency', { exact: true }).selectOption({ label: 'Other' });
  await panel.getByRole('button', { name: 'Record the agency' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('Name the agency');
  await panel.getByLabel('Agency', { exact: true }).selectOption({ label: 'Oranga Tamariki' });
  await panel.getByLabel('Service or name (required for Other)').fill('Kaitaia site social worker');
  await panel.getByRole('button', { name: 'Record the agency' }).click();
  await expect(panel.getByRole('list', { name: 'Agencies engaged' })).toContainText('Kaitaia site social worker');
  await panel.getByLabel('Agency to check with').selectOption({ label: 'Police' });
  await panel.getByLabel('What to ask (required for Other)').fill('Any family harm callouts this year?');
  await panel.getByRole('button', { name: 'Ask for the check' }).click();
  await expect(panel.getByRole('list', { name: 'Agency checks' })).toContainText('Waiting for CIT');
  await expectAccessible(page, 'other agencies');

  // CIT records the result
  await signIn(page, 'cit-1');
  await page.goto(`/cases/${id}`);
  const cit = page.getByRole('region', { name: 'Other agencies' });
  await cit.getByLabel('Result of the check').fill('No callouts recorded since June.');
  await cit.getByRole('button', { name: 'Record the result' }).click();
  await expect(cit.getByRole('list', { name: 'Agency checks' })).toContainText('Result: No callouts recorded since June.');

  // the Case Manager sees it; the school sees neither the agencies nor the check
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('region', { name: 'Other agencies' })).toContainText('No callouts recorded since June.');
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Other agencies' })).toHaveCount(0);
  await expect(page.locator('main')).not.toContainText('callouts');
  await expect(page.locator('main')).not.toContainText('Kaitaia site social worker');
});

test('the Unmet Basic Needs Fund: the provider spends and refunds against its cap; the school sees none of it', async ({ page }) => {
  const name = uniqueName('Fund');
  const id = await caseInQueue(name);
  await signIn(page, 'cm-p01');
  await expect(page.getByRole('heading', { name: /Unmet Basic Needs Fund \d{4}\/\d{2}/ })).toBeVisible();
  await page.goto(`/cases/${id}`);
  const panel = page.getByRole('region', { name: 'Unmet Basic Needs Fund' });
  await expect(panel.getByLabel('Fund balance')).toContainText('left');
  // an amount the portal cannot read, and other without a note: said on the field
  await panel.getByLabel('Amount (NZ$)').fill('forty');
  await panel.getByRole('button', { name: 'Record the spend' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('Enter the amount in dollars and cents');
  await panel.getByLabel('What it paid for').selectOption({ label: 'Other' });
  await panel.getByLabel('Amount (NZ$)').fill('12');
  await panel.getByRole('button', { name: 'Record the spend' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('needs a note');
  // more than the cap ($10,500 for this provider): refused with what is left
  await panel.getByLabel('What it paid for').selectOption({ label: 'Transport' });
  await panel.getByLabel('Amount (NZ$)').fill('20000');
  await panel.getByRole('button', { name: 'Record the spend' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('above its cap');
  // a spend, then part of it refunded
  await panel.getByLabel('What it paid for').selectOption({ label: 'Clothing' });
  await panel.getByLabel('Amount (NZ$)').fill('45.50');
  await panel.getByLabel('Note (required for Other)').fill('School shoes');
  await panel.getByRole('button', { name: 'Record the spend' }).click();
  const list = panel.getByRole('list', { name: 'Fund spends' });
  await expect(list).toContainText('Clothing: $45.50');
  await expect(list).toContainText('School shoes');
  await list.getByText('Record a refund').click();
  const refund = list.getByRole('form', { name: 'Refund of Clothing $45.50' });
  await refund.getByLabel('Amount refunded (NZ$)').fill('5.50');
  await refund.getByRole('button', { name: 'Record the refund' }).click();
  await expect(list).toContainText('$5.50 refunded');
  await expect(page.locator('.timeline')).toContainText('Unmet Basic Needs Fund: $45.50 spent on clothing');
  await expectAccessible(page, 'unmet basic needs fund');

  // the school sees neither the spend nor the fund
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Unmet Basic Needs Fund' })).toHaveCount(0);
  await expect(page.locator('main')).not.toContainText('School shoes');
  await expect(page.locator('main')).not.toContainText('$45.50');
});

test('a provider admin reassigns a Case Manager’s cases in one go, with a reason the case timeline keeps', async ({ page }) => {
  const first = uniqueName('Moving');
  const second = uniqueName('Staying');
  const a = await caseInQueue(first);
  const b = await caseInQueue(second);
  // both assigned to cm-p01
  const admin = await tokenFor('admin-p01');
  for (const id of [a, b]) {
    const before = await call(admin, 'GET', `/cases/${id}`);
    const assigned = await call(admin, 'POST', `/cases/${id}/status`, { action: 'assign', caseManagerId: 'cm-p01', version: before.body.version });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
  }

  await signIn(page, 'admin-p01');
  const panel = page.getByRole('region', { name: 'Reassign a Case Manager’s cases' });
  // nothing chosen: each field says what it needs
  await panel.getByRole('button', { name: 'Reassign the cases' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('Say why the cases are moving');
  await panel.getByLabel('Cases of').selectOption({ label: 'Casey Specimen (Case Manager)' });
  await panel.getByLabel('Move them to').selectOption({ label: 'Ari Placeholder (Case Manager)' });
  await panel.getByLabel('Only the cases I choose').check();
  await panel.getByLabel(first, { exact: true }).check();
  await panel.getByRole('textbox', { name: 'Reason', exact: true }).fill('Casey is on leave until the end of term');
  await panel.getByRole('button', { name: 'Reassign the cases' }).click();
  await expect(panel.getByRole('status')).toContainText('1 case moved to Ari Placeholder (Case Manager).');
  await expectAccessible(page, 'bulk reassignment');

  // the chosen case moved, with the reason on its timeline; the other stayed
  await page.goto(`/cases/${a}`);
  await expect(page.locator('.timeline')).toContainText('Case Manager cm2-p01 assigned (was cm-p01): Casey is on leave until the end of term');
  await page.goto(`/cases/${b}`);
  await expect(page.locator('.timeline')).not.toContainText('cm2-p01');
});

test('the support plan: a goal, a gradual return towards it, done, reviewed; the school sees the plan', async ({ page }) => {
  const name = uniqueName('Plan');
  const id = await caseInQueue(name);
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const panel = page.getByRole('region', { name: 'Support plan' });
  await panel.getByRole('button', { name: 'Add to the plan' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('Describe the goal');
  await panel.getByLabel('Description').fill('Back at school full time by Term 1');
  await panel.getByRole('button', { name: 'Add to the plan' }).click();
  await expect(panel.getByRole('list', { name: 'Goals and steps' })).toContainText('Back at school full time by Term 1');
  await panel.getByLabel('What to add').selectOption({ label: 'Gradual return' });
  await panel.getByLabel('Description').fill('Mornings only for two weeks');
  await panel.getByLabel('Towards the goal').selectOption({ label: 'Back at school full time by Term 1' });
  await panel.getByLabel('Who does it').selectOption({ label: 'The school' });
  await panel.getByRole('button', { name: 'Add to the plan' }).click();
  const steps = panel.getByRole('list', { name: 'Steps towards Back at school full time by Term 1' });
  await expect(steps).toContainText('Gradual return: Mornings only for two weeks — The school');
  // too young for transition planning: said on the field
  await panel.getByLabel('What to add').selectOption({ label: 'Transition planning (15 or older)' });
  await panel.getByLabel('Description').fill('Trades training');
  await panel.getByRole('button', { name: 'Add to the plan' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('approaching 16');
  await steps.getByRole('button', { name: 'Mark done: Mornings only for two weeks' }).click();
  await expect(steps).toContainText('(Done)');
  await panel.getByLabel('What the review found').fill('Attending four mornings of five');
  await panel.getByRole('button', { name: 'Record the review' }).click();
  await expect(panel.getByRole('list', { name: 'Plan reviews' })).toContainText('Attending four mornings of five');
  await expectAccessible(page, 'support plan');

  // the school follows the plan, and cannot change it
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  const seen = page.getByRole('region', { name: 'Support plan' });
  await expect(seen).toContainText('Mornings only for two weeks');
  await expect(seen).toContainText('Attending four mornings of five');
  await expect(seen.getByRole('button', { name: 'Add to the plan' })).toHaveCount(0);
  await expect(page.locator('.timeline')).toContainText('Support plan reviewed');
});

test('provider initiatives: recorded for the schools the provider serves, the outcome later; the school involved sees it', async ({ page }) => {
  const title = uniqueName('Transition');
  await signIn(page, 'cm-p01');
  const panel = page.getByRole('region', { name: 'Initiatives for schools and groups of students' });
  await panel.getByLabel('Title', { exact: true }).fill(title);
  await panel.getByLabel('Purpose').fill('Support the move from intermediate to college');
  await panel.getByLabel('Schools involved').fill('1008');
  await panel.getByLabel('Starts on').fill('2027-02-01');
  await panel.getByRole('button', { name: 'Record the initiative' }).click();
  await expect(panel.getByRole('alert').first()).toContainText('not one this provider serves');
  await panel.getByLabel('Schools involved').fill('1001');
  await panel.getByLabel('Group of students (optional)').fill('Year 8 students');
  await panel.getByRole('button', { name: 'Record the initiative' }).click();
  const list = panel.getByRole('list', { name: 'Initiatives' });
  await expect(list).toContainText(title);
  const outcome = list.getByRole('form', { name: `Outcome of ${title}` });
  await outcome.getByLabel('What it achieved').fill('18 of 22 students attending 90 %');
  await outcome.getByRole('button', { name: 'Record the outcome' }).click();
  await expect(list).toContainText('Outcome: 18 of 22 students attending 90 %');
  await expectAccessible(page, 'provider initiatives');

  await signIn(page, 'lead-1001');
  await expect(page.getByRole('region', { name: 'Provider initiatives involving your school' })).toContainText(title);
  await signIn(page, 'lead-1008');
  await expect(page.getByTestId('case-list')).toBeVisible();
  await page.waitForLoadState('networkidle');
  await expect(page.locator('main')).not.toContainText(title);
});

test('pause an under-six case with the four attestations, then reopen it', async ({ page }) => {
  const name = uniqueName('Pepi');
  const id = await caseInQueue(name, {
    student: { fullName: name, dateOfBirth: birthDate(5, 60), nsn: String(Math.floor(100000000 + Math.random() * 899999999)), yearLevel: 1, international: false },
  });
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const work = page.getByRole('region', { name: 'Work the case' });
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Open');
  await work.getByLabel('Pause the case (child under six, withdrawn)').check();
  await work.getByLabel('The child has been located').check();
  await work.getByLabel('The whānau have been contacted').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  // the API refuses with fewer than four: shown, nothing changed
  await expect(work.getByRole('alert')).toBeVisible();
  await expect(page.getByTestId('case-summary')).toContainText('Open');
  await work.getByLabel('The child is safe, and the whānau made an informed choice').check();
  await work.getByLabel('The child has been withdrawn from school').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Paused');
  await work.getByLabel('Reopen the case').check();
  await work.getByRole('button', { name: 'Save the change' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Open');
});

test('Case Manager: barriers to attendance recorded and moved forward, never shown to the school', async ({ page }) => {
  const name = uniqueName('Barrier');
  const id = await caseInQueue(name);
  await signIn(page, 'cm-p01');
  await page.goto(`/cases/${id}`);
  const b = page.getByRole('region', { name: 'Barriers to attendance' });
  await expect(b.getByText('No barriers recorded yet.')).toBeVisible();
  // "other" needs a description: the problem is named at the field
  await b.getByLabel('Barrier', { exact: true }).selectOption('other');
  await b.getByRole('button', { name: 'Record the barrier' }).click();
  await expect(b.getByRole('alert')).toContainText('needs a description');
  // a barrier from the guide's list, with its description
  await b.getByLabel('Barrier', { exact: true }).selectOption('transport');
  await b.getByLabel('Description (required for Other)').fill('No bus from the settlement');
  await b.getByRole('button', { name: 'Record the barrier' }).click();
  await expect(b.getByRole('status')).toContainText('Barrier recorded: Transport.');
  const list = b.getByRole('list', { name: 'Barriers recorded' });
  await expect(list).toContainText('Transport: No bus from the settlement — Identified');
  await b.getByRole('button', { name: 'Mark Transport as being addressed' }).click();
  await expect(list).toContainText('Being addressed');
  // forward only: "being addressed" is no longer offered, "resolved" is
  await expect(b.getByRole('button', { name: 'Mark Transport as being addressed' })).toHaveCount(0);
  await expect(b.getByRole('button', { name: 'Mark Transport as resolved' })).toBeVisible();
  await expect(page.locator('.timeline')).toContainText('Barrier: Transport — being addressed');
  await expectAccessible(page, 'barriers');
  await shot(page, 'case-barriers');

  // the school's Attendance Lead sees the case, but neither the barriers nor their timeline entries
  await signIn(page, 'lead-1001');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Barriers to attendance' })).toHaveCount(0);
  await expect(page.locator('.timeline')).not.toContainText('Barrier');
  await expect(page.locator('body')).not.toContainText('No bus from the settlement');
});
