import { expect } from '@playwright/test';
import { call, caseInQueue, expectAccessible, nenCase, shot, signIn, tokenFor, uniqueName, test } from './support';

test('CIT: the NEN review queue oldest first, the suggested provider, allocate', async ({ page }) => {
  const first = uniqueName('Nen');
  const second = uniqueName('Nen');
  const id = await nenCase(first);
  await nenCase(second);
  await signIn(page, 'cit-1');
  const queue = page.getByRole('list', { name: 'NEN review queue' });
  await expect(queue.getByRole('link', { name: first })).toBeVisible();
  const names = await queue.locator('.case-card h3').allTextContents();
  expect(names.indexOf(first)).toBeLessThan(names.indexOf(second));
  await expectAccessible(page, 'CIT home');
  await shot(page, 'cit-queue');

  await queue.getByRole('link', { name: first }).click();
  await expect(page).toHaveURL(new RegExp(`/cases/${id}$`));
  const review = page.getByRole('region', { name: 'Review this NEN' });
  await expect(review.getByTestId('suggestion')).toContainText('P01');
  await expectAccessible(page, 'NEN review');
  await shot(page, 'cit-review');
  await review.getByRole('button', { name: 'Allocate' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Provider Queue');
  await expect(page.getByTestId('case-summary')).toContainText('P01');
});

test('CIT: close a NEN that needs no provider, and transfer a case to another provider', async ({ page }) => {
  const nen = await nenCase(uniqueName('Closing'));
  const ca = await caseInQueue(uniqueName('Moving'));
  await signIn(page, 'cit-1');
  await page.goto(`/cases/${nen}`);
  const review = page.getByRole('region', { name: 'Review this NEN' });
  await review.getByRole('button', { name: 'Close the NEN' }).click();
  await expect(review.getByRole('alert')).toContainText('Enter why the NEN needs no provider');
  await review.getByLabel('Why does this NEN need no provider?').fill('Enrolled at a kura kaupapa Māori; ENROL not yet updated.');
  await review.getByRole('button', { name: 'Close the NEN' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('Closed');

  await page.goto(`/cases/${ca}`);
  const transfer = page.getByRole('region', { name: 'Transfer to another provider' });
  await transfer.getByLabel('Transfer to provider').fill('P08');
  await transfer.getByLabel('Reason for the transfer').fill('Whānau moved to the P08 catchment.');
  await transfer.getByRole('button', { name: 'Transfer the case' }).click();
  await expect(page.getByTestId('case-summary')).toContainText('P08');
  // the old provider no longer sees it
  const old = await tokenFor('cm-p01');
  expect((await call(old, 'GET', `/cases/${ca}`)).status).toBe(404);
});

test('national staff: cases in scope and a case’s audit trail', async ({ page }) => {
  const name = uniqueName('Audited');
  const id = await caseInQueue(name);
  await signIn(page, 'national-1');
  await expect(page.getByRole('heading', { level: 1, name: 'Cases in your scope' })).toBeVisible();
  // one status at a time, a page at a time: the Provider Queue holds the new case
  await page.getByLabel('Status', { exact: true }).selectOption('provider_queue');
  await expect(page.getByRole('list', { name: 'Provider Queue cases' }).locator('.case-card').first()).toBeVisible();
  await expectAccessible(page, 'ministry home');
  await shot(page, 'ministry-home');
  // a case by its reference
  await page.getByLabel('Case reference').fill(id);
  await page.getByRole('button', { name: 'Find the case' }).click();
  await expect(page).toHaveURL(new RegExp(`/cases/${id}$`));
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await page.getByRole('link', { name: /audit trail/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit trail' })).toBeVisible();
  await expect(page.getByTestId('chain')).toContainText('The record is intact');
  const changes = page.getByRole('region', { name: /^Changes to the case/ }).locator('tbody tr');
  await expect(changes.filter({ hasText: 'case.created' })).toHaveCount(1);
  const views = page.getByRole('region', { name: /^Views of the case/ }).locator('tbody tr');
  await expect(views.filter({ hasText: 'national-1' }).first()).toBeVisible();
  await expectAccessible(page, 'audit trail');
  await shot(page, 'audit-trail');
});

test('regional staff see their region’s cases; prosecutions read a case and its safety notes', async ({ page }) => {
  const name = uniqueName('Regional');
  const id = await caseInQueue(name);
  await signIn(page, 'regional-tai-tokerau');
  await page.getByLabel('Case reference').fill(id);
  await page.getByRole('button', { name: 'Find the case' }).click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await page.getByRole('link', { name: /audit trail/ }).click();
  await expect(page.getByTestId('chain')).toContainText('intact');
  await signIn(page, 'regional-auckland');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Case not found' })).toBeVisible();
  // the Prosecutions team sees a case only once it is referred to it
  await signIn(page, 'prosecutions-1');
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Case not found' })).toBeVisible();
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(new Date());
  const referred = await call(await tokenFor('lead-1001'), 'POST', `/cases/${id}/escalations`, { kind: 'prosecution_referral', on: today });
  expect(referred.status, JSON.stringify(referred.body)).toBe(201);
  await page.goto(`/cases/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole('region', { name: /Safety notes/ })).toContainText('No safety notes.');
  await expectAccessible(page, 'prosecutions case view');
});

test('the identity provider’s sign-in page is accessible', async ({ page }) => {
  await page.goto('/');
  await expectAccessible(page, 'portal sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  expect(page.url()).toContain('code_challenge_method=S256');
  await expectAccessible(page, 'identity provider page');
  await shot(page, 'sign-in');
  // a page that does not exist, signed in
  await page.locator('button[name="user"][value="lead-1001"]').click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expectAccessible(page, 'not found');
});

test('an ended session goes back to sign-in, saying why', async ({ page }) => {
  const id = await caseInQueue(uniqueName('Session'));
  await signIn(page, 'national-1');
  await expect(page.locator('[data-testid="case-list"][aria-busy="false"]')).toBeVisible();
  // the token is no longer accepted (as when it expires): the API answers 401
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('portal.session') ?? '{}');
    sessionStorage.setItem('portal.session', JSON.stringify({ ...s, token: `${s.token}x` }));
  });
  // mid-session, in the app: the next call's 401 ends the session
  await page.getByLabel('Case reference').fill(id);
  await page.getByRole('button', { name: 'Find the case' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to the Attendance Service Portal' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('Your session has ended');
  // and on a fresh load too
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('the national team sees the nation in figures; CIT has no dashboard', async ({ page }) => {
  await caseInQueue(uniqueName('National'));
  await signIn(page, 'national-1');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'National dashboard' })).toBeVisible();
  await expect(page.getByRole('heading', { name: /against the service’s capacity/ })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('table', { name: 'Active cases by region' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expectAccessible(page, 'national dashboard');
  await signIn(page, 'cit-1');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Dashboard' })).toHaveCount(0);
});

test('a regional team sees its providers: queue, its age, closures and breaches', async ({ page }) => {
  await caseInQueue(uniqueName('Regional'));
  await signIn(page, 'regional-tai-tokerau');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Regional dashboard' })).toBeVisible();
  const providers = page.getByRole('table', { name: 'Providers of the region' });
  await expect(async () => {
    await page.reload();
    await expect(providers.getByRole('columnheader', { name: 'Average days waiting' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(providers.getByRole('row', { name: /Kaitaia Attendance Service/ })).toBeVisible();
  await expectAccessible(page, 'regional dashboard');
});
