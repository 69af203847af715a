import { expect, type Page } from '@playwright/test';
import { birthDate, caseInQueue, expectAccessible, expectNoSideScroll, freshNsn, shot, signIn, uniqueName, test } from './support';

async function fillStudent(page: Page, name: string, nsn: string) {
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Date of birth').fill(birthDate(12));
  await page.getByLabel('National Student Number (NSN)').fill(nsn);
  await page.getByLabel('Year level').selectOption('7');
  await page.getByRole('group', { name: 'Is the ākonga an international student?' }).getByLabel('No').check();
}

async function fillRest(page: Page) {
  const w = page.getByRole('group', { name: 'Whānau member 1' });
  await w.getByLabel('Name').fill('Mere Example');
  await w.getByLabel('Relationship to the ākonga (optional)').fill('mother');
  await w.getByLabel('Phone').fill('021 555 0101');
  const home = page.getByRole('group', { name: 'Home address' });
  await home.getByLabel('Street address').fill('12 Kōwhai Lane');
  await home.getByLabel('Town or city').fill('Kaitaia');
  await home.getByLabel('Postcode').fill('0410');
  await page.getByLabel('Reason for the request').fill('Attended 55% of half-days this term.');
  await page.getByLabel('Actions the school has taken').fill('Attendance plan; two whānau hui.');
  await page.getByLabel('Whole days or half-days of school').check();
}

test('Attendance Lead: draft, resume, every error at once, submit, outcome, case page with comment, file and safety note', async ({ page }) => {
  const name = uniqueName('Aroha');
  const nsn = freshNsn();
  await signIn(page, 'lead-1001');
  await expect(page.getByRole('heading', { level: 1, name: 'Your school’s cases' })).toBeVisible();
  await expect(page.getByTestId('case-list')).toBeVisible();
  await expectAccessible(page, 'school home');

  // start a CA request and save it as a draft
  await page.getByRole('link', { name: 'Start a CA request' }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Start a CA request' })).toBeVisible();
  await expectAccessible(page, 'CA request form');
  await shot(page, 'ca-request-form');
  await fillStudent(page, name, nsn);
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Draft saved' })).toBeVisible();
  expect(page.url()).toMatch(/\/requests\/[0-9A-Z]+$/);
  expect(page.url()).not.toContain(nsn);

  // resume it from the home page
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('link', { name: `Continue: ${name}` }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Continue your CA request' })).toBeVisible();
  await expect(page.getByLabel('National Student Number (NSN)')).toHaveValue(nsn);
  await expect(page.getByLabel('Year level')).toHaveValue('7');

  // submit it incomplete: every missing field at once, in the summary and beside each field
  await page.getByRole('button', { name: 'Submit CA request' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
  await expect(summary).toBeVisible();
  await expect(summary).toBeFocused();
  const links = summary.getByRole('link');
  expect(await links.count()).toBeGreaterThanOrEqual(4);
  for (const text of [/whānau/i, /home address/i, /reason for the request/i, /actions the school has/i, /absence pattern/i]) {
    await expect(summary.getByRole('link', { name: text })).toBeVisible();
  }
  await expect(page.locator('#f-reason-error')).toBeVisible();
  await expect(page.locator('#f-actionsTaken-error')).toBeVisible();
  await expectAccessible(page, 'CA request form with errors');
  await shot(page, 'ca-request-errors');
  // a summary link moves focus to its field
  await summary.getByRole('link', { name: /reason for the request/i }).click();
  await expect(page.getByLabel('Reason for the request')).toBeFocused();

  // complete and submit
  await fillRest(page);
  await page.getByRole('button', { name: 'Submit CA request' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your CA request has been submitted' })).toBeVisible();
  await expect(page.getByTestId('allocated-provider')).toContainText('P01');
  await expect(page.getByRole('heading', { name: 'What happens next' })).toBeVisible();
  await expectAccessible(page, 'outcome page');
  await shot(page, 'ca-request-outcome');

  // the case page
  await page.getByRole('link', { name: 'View the case' }).click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  const facts = page.getByTestId('case-summary');
  await expect(facts).toContainText('Provider Queue');
  await expect(facts).toContainText('P01');
  await expect(page.getByRole('heading', { name: 'Service levels' })).toBeVisible();

  await page.getByLabel('Comment', { exact: true }).fill('Whānau hui booked for Thursday.');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Comment added' })).toBeVisible();
  await expect(page.locator('.timeline')).toContainText('Whānau hui booked for Thursday.');

  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'Hui ā-whānau plan.txt', mimeType: 'text/plain', buffer: Buffer.from('Plan: meet weekly.\n') });
  await page.getByRole('button', { name: 'Upload file' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'File uploaded' })).toBeVisible();
  const download = page.getByRole('button', { name: /Download Hui ā-whānau plan\.txt/ });
  await expect(download).toBeVisible({ timeout: 15_000 });
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  expect(file.suggestedFilename()).toBe('Hui ā-whānau plan.txt');

  await page.getByLabel('Add a safety note').fill('Dog at the property: phone before visiting.');
  await page.getByRole('button', { name: 'Add safety note' }).click();
  await expect(page.locator('.sensitive')).toContainText('Dog at the property');
  await expectAccessible(page, 'school case page');
  await shot(page, 'school-case');

  // home: the case under its status, with its SLA state
  await page.getByRole('link', { name: 'Home' }).click();
  const card = page.locator('.case-card').filter({ hasText: name });
  await expect(card).toContainText('Provider Queue');
  await expect(card).toContainText(/School meeting.*Due by/);
  await shot(page, 'school-home');
});

test('Office Support sees the school’s cases; a School Primary Contact only theirs', async ({ page, browser }) => {
  const mine = uniqueName('Tama');
  const other = uniqueName('Rawiri');
  const a = await caseInQueue(mine, { primaryContactUserId: 'contact-1001' });
  const b = await caseInQueue(other, { primaryContactUserId: 'lead-1001' });

  await signIn(page, 'office-1001');
  await expect(page.getByRole('link', { name: mine })).toBeVisible();
  await expect(page.getByRole('link', { name: other })).toBeVisible();

  const ctx = await browser.newContext();
  const p2 = await ctx.newPage();
  await signIn(p2, 'contact-1001');
  await expect(p2.getByRole('link', { name: mine })).toBeVisible();
  await expect(p2.getByRole('link', { name: other })).toHaveCount(0);
  // the other case's page is not found for them
  await p2.goto(`/cases/${b}`);
  await expect(p2.getByRole('heading', { level: 1, name: 'Case not found' })).toBeVisible();
  await p2.goto(`/cases/${a}`);
  await expect(p2.getByRole('heading', { level: 1, name: new RegExp(mine) })).toBeVisible();
  await expectAccessible(p2, 'primary contact case page');
  await ctx.close();
});

test('In-School Provision school: the ISP choice, and the case goes to the ISP', async ({ page }) => {
  const name = uniqueName('Kiri');
  await signIn(page, 'lead-1008');
  await page.getByRole('link', { name: 'Start a CA request' }).first().click();
  // the school's directory entry says it has In-School Provision: the question is asked at once
  const choice = page.getByRole('group', { name: 'Who should support the ākonga?' });
  await expect(choice).toBeVisible();
  await fillStudent(page, name, freshNsn());
  await fillRest(page);
  await expect(page.getByRole('group', { name: 'School Primary Contact' }).getByLabel(/Kiri Demo/)).toBeChecked();
  // not answered: the API's own message, beside the question
  await page.getByRole('button', { name: 'Submit CA request' }).click();
  await expect(page.getByRole('alert')).toContainText('In-School Provision');
  await expect(page.locator('#f-allocation-error')).toBeVisible();
  await expectAccessible(page, 'ISP choice');
  await choice.getByLabel(/Our In-School Provision/).check();
  await page.getByRole('button', { name: 'Submit CA request' }).click();
  await expect(page.getByTestId('allocated-provider')).toContainText('In-School Provision');
  await expect(page.getByTestId('allocated-provider')).toContainText('ISP-1008');
});

test('the CA request form completed by keyboard alone', async ({ page }) => {
  const name = uniqueName('Keyboard');
  await signIn(page, 'lead-1001');
  await page.goto('/requests/new');
  await expect(page.getByRole('heading', { level: 1, name: 'Start a CA request' })).toBeVisible();
  // from the top of the page: the skip link first, then into the form
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to main content' })).toBeFocused();
  await page.keyboard.press('Enter');
  // Tab forward (never a click) until the field with this label has focus, then type
  const focusedLabel = () =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.id ? (document.querySelector(`label[for="${el.id}"]`)?.textContent ?? '') : '';
    });
  const typeInto = async (label: string, text: string) => {
    for (let i = 0; i < 40 && (await focusedLabel()) !== label; i++) await page.keyboard.press('Tab');
    expect(await focusedLabel()).toBe(label);
    if (text) await page.keyboard.type(text);
  };
  await typeInto('Full name', name);
  await typeInto('Date of birth', birthDate(12));
  await typeInto('National Student Number (NSN)', freshNsn());
  await typeInto('Year level', '');
  await page.keyboard.type('Year 8');
  await typeInto('No', '');
  await page.keyboard.press('Space');
  await typeInto('Name', 'Mere Example');
  await typeInto('Phone', '021 555 0101');
  await typeInto('Street address', '12 Kowhai Lane');
  await typeInto('Town or city', 'Kaitaia');
  await typeInto('Postcode', '0410');
  await typeInto('Reason for the request', 'Attended 55% of half-days this term.');
  await typeInto('Actions the school has taken', 'Attendance plan.');
  await typeInto('Whole days or half-days of school', '');
  await page.keyboard.press('Space');
  // the School Primary Contact (the signed-in Attendance Lead is chosen already), then the button
  const submit = page.getByRole('button', { name: 'Submit CA request' });
  for (let i = 0; i < 10 && !(await submit.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(submit).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Your CA request has been submitted' })).toBeVisible();
  await expect(page.getByTestId('allocated-provider')).toContainText('P01');
});

test.describe('at 375 px wide', () => {
  test.use({ viewport: { width: 375, height: 812 } });
  test('the school journey fits a phone', async ({ page }) => {
    const name = uniqueName('Phone');
    await signIn(page, 'lead-1001');
    await expectNoSideScroll(page);
    await page.getByRole('link', { name: 'Start a CA request' }).first().click();
    await fillStudent(page, name, freshNsn());
    await fillRest(page);
    await expectNoSideScroll(page);
    await page.getByRole('button', { name: 'Submit CA request' }).click();
    await expect(page.getByTestId('allocated-provider')).toContainText('P01');
    await expectNoSideScroll(page);
    await page.getByRole('link', { name: 'View the case' }).click();
    await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
    await expectNoSideScroll(page);
    await expectAccessible(page, 'case page at 375 px');
    await shot(page, 'school-case-375px');
  });
});

test('the email to the School Primary Contact links to the case page, which opens after sign-in', async ({ page }) => {
  const emulator = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:5000';
  const id = await caseInQueue(uniqueName('Emailed'), { primaryContactUserId: 'contact-1001' });
  let link: string | undefined;
  for (let i = 0; i < 40 && !link; i++) {
    const { messages } = (await (await fetch(`${emulator}/_local/outbox`)).json()) as { messages: { body: string }[] };
    link = messages.map((m) => /https?:\/\/\S+\/cases\/(\S+)/.exec(m.body)).find((m) => m?.[1] === id)?.[0];
    if (!link) await new Promise((r) => setTimeout(r, 250));
  }
  expect(link, 'an email links to the case').toBeTruthy();
  expect(new URL(link!).origin).toBe(new URL(process.env.PORTAL_URL ?? 'http://127.0.0.1:3000').origin);
  // not signed in: the link asks for sign-in, then lands on the case
  await page.goto(new URL(link!).pathname);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('button[name="user"][value="contact-1001"]').click();
  await expect(page).toHaveURL(new RegExp(`/cases/${id}$`));
  await expect(page.getByTestId('case-summary')).toContainText('Provider Queue');
});

test('a request that is not appropriate is refused with the reason, nothing lost; a draft can be discarded', async ({ page }) => {
  const name = uniqueName('Single');
  await signIn(page, 'lead-1001');
  await page.getByRole('link', { name: 'Start a CA request' }).first().click();
  await fillStudent(page, name, freshNsn());
  await fillRest(page);
  await page.getByLabel('A single class only').check();
  await page.getByRole('button', { name: 'Submit CA request' }).click();
  const refusal = page.getByRole('alert');
  await expect(refusal).toContainText('Request not appropriate');
  await expect(refusal).toContainText('Attendance Management Plan');
  await expect(page.getByLabel('Full name')).toHaveValue(name);
  await expectAccessible(page, 'not appropriate');

  // it was saved as a draft on the way: discard it
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Discard this draft' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The draft has been discarded.' })).toBeVisible();
  await expect(page.getByRole('link', { name: `Continue: ${name}` })).toHaveCount(0);
});

test('a School Primary Contact chooses one summary email a day instead of an email per update, and back', async ({ page }) => {
  // contact2-1001: no other test reads the emails sent to them
  await signIn(page, 'contact2-1001');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Email updates' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your email updates' })).toBeVisible();
  const group = page.getByRole('group', { name: 'How would you like to hear about updates?' });
  const each = group.getByLabel('An email for every update (as it happens)');
  const daily = group.getByLabel('One summary email a day, early each morning');
  await expect(each).toBeChecked();
  await daily.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('one summary email a day');
  await expectAccessible(page, 'email updates page');
  await shot(page, 'email-updates');
  // the choice is the API's, not the page's: a fresh load shows it
  await page.reload();
  await expect(page.getByRole('group', { name: 'How would you like to hear about updates?' }).getByLabel('One summary email a day, early each morning')).toBeChecked();
  await page.getByLabel('An email for every update (as it happens)').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('an email for every update');
  await page.reload();
  await expect(page.getByLabel('An email for every update (as it happens)')).toBeChecked();
});

test('roles that get no case emails are not offered the choice', async ({ page }) => {
  await signIn(page, 'office-1001');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Email updates' })).toHaveCount(0);
  await page.goto('/profile');
  await expect(page.getByText('Your role gets none, so there is nothing to choose here.')).toBeVisible();
  await expect(page.getByRole('radio')).toHaveCount(0);
});

test('the school dashboard counts a new request as soon as it is made, in accessible tables', async ({ page }) => {
  await signIn(page, 'lead-1001');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'School dashboard' })).toBeVisible();
  const cases = page.locator('.summary-figures div').filter({ hasText: /^Cases/ }).locator('dd');
  await expect(cases).toHaveText(/^\d+$/);
  const before = Number(await cases.textContent());
  await caseInQueue(uniqueName('Counted'));
  // the consumer counts it from the case's events: within moments (other tests running at the same
  // time may add cases of the school too, so at least one more)
  await expect(async () => {
    await page.reload();
    const now = Number(await page.locator('.summary-figures div').filter({ hasText: /^Cases/ }).locator('dd').textContent({ timeout: 1000 }));
    expect(now).toBeGreaterThanOrEqual(before + 1);
  }).toPass({ timeout: 20_000 });
  const byStatus = page.getByRole('table', { name: 'Cases by status and type' });
  await expect(byStatus.getByRole('row', { name: /Provider Queue/ })).toBeVisible();
  await expect(page.getByRole('table', { name: 'SLA clocks' })).toBeVisible();
  await expectAccessible(page, 'school dashboard');
  await shot(page, 'dashboard-school');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download these figures (CSV)' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^dashboard-school-1001-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  const counted = Number(/"Cases","all","cases","(\d+)"/.exec(text)?.[1]);
  expect(counted).toBeGreaterThanOrEqual(before + 1);
});

test('school staff download their case list as CSV, without health or contact details', async ({ page }) => {
  const name = uniqueName('Csv');
  await caseInQueue(name);
  await signIn(page, 'office-1001');
  await expect(page.getByRole('link', { name })).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download your case list (CSV)' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^cases-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(text.split('\r\n')[0]).toContain('"Case","Type","Status","Student"');
  expect(text).toContain(`"${name}"`);
  expect(text).not.toContain('Kōwhai');
  expect(text).not.toContain('021 555');
  await expectAccessible(page, 'home page with the download');
});
