// The provider's and the patient's journeys in Debian's chromium, with JavaScript turned off (the pages
// must work without it), then an axe-core accessibility check of the login, record-session and portal
// pages. Prints a JSON summary; exits non-zero with the reason on any failure.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.BASE_URL;
const out = process.env.OUT_DIR;
const email = process.env.PROVIDER_EMAIL;
const password = process.env.PROVIDER_PASSWORD;
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const consoleErrors = [];
function watch(page, who) {
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${who}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${who}: ${e.message}`));
  page.on('response', (r) => { if (r.status() === 404) consoleErrors.push(`${who}: 404 ${r.url()}`); });
}
function fail(message) {
  console.error(message);
  process.exitCode = 1;
  throw new Error(message);
}
async function expectText(page, text) {
  const body = await page.textContent('body');
  if (!body.includes(text)) fail(`${page.url()} lacks ${JSON.stringify(text)}`);
}

try {
  // Provider, without JavaScript.
  const providerCtx = await browser.newContext({ javaScriptEnabled: false });
  const p = await providerCtx.newPage();
  watch(p, 'provider');
  await p.goto(`${base}/login`);
  await p.fill('#email', email);
  await p.fill('#password', password);
  await p.click('button[type=submit]');
  if (!p.url().endsWith('/patients')) fail(`after sign-in: ${p.url()}: ${(await p.textContent('main')).trim().slice(0, 300)}`);
  await p.click('text=New patient');
  await p.fill('#first_name', 'Ana');
  await p.fill('#last_name', 'Silva');
  await p.fill('#date_of_birth', '1990-04-02');
  await p.fill('#email', 'ana@mail.example');
  await p.click('button[type=submit]');
  const patientUrl = p.url();
  if (!/\/patients\/\d+$/.test(patientUrl)) fail(`after creating the patient: ${patientUrl}`);
  await p.selectOption('#condition', 'acne_scars');
  await p.click('button:has-text("Open series")');
  await expectText(p, 'This will be session 1 of a planned 3');
  const twoDaysAgo = new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);
  await p.setViewportSize({ width: 1280, height: 900 });
  await p.screenshot({ path: `${out}/provider-record-session.png`, fullPage: true });
  await p.fill('input[name=performed_on]', twoDaysAgo);
  await p.check('#area-cheeks-0');
  await p.check('#area-periorbital-0');
  await p.selectOption('#device-0', 'pen');
  await p.check('#product-sunscreen-0');
  await p.fill('input[name=needle_depth_mm]', '0.5');
  await p.fill('textarea[name=notes]', 'Hyaluronic serum at night');
  // The patient has not signed the consent yet: the provider gives the reason to go ahead.
  await p.fill('input[name=consent_override_reason]', 'Signed on paper at the desk');
  // A double click sends the form twice; its one-time key records it once.
  await p.dblclick('button:has-text("Record session")');
  // The second submission aborts the first one's navigation (net::ERR_ABORTED); wait for the one that lands.
  await p.waitForURL(/recorded=\d+/).catch(async (e) => {
    if (!String(e).includes('ERR_ABORTED')) throw e;
    await p.waitForURL(/recorded=\d+/);
  });
  await expectText(p, 'Session 1 recorded.');
  await p.reload();
  await expectText(p, 'Record session 2');
  const rows = await p.locator('table:has(caption:text("Sessions")) tbody tr').count();
  if (rows !== 1) fail(`sessions after a double click and a reload: ${rows}`);
  await expectText(p, 'Around the eyes (periorbital)');
  // Before and after photos, shown side by side.
  for (const kind of ['before', 'after']) {
    await p.selectOption('#photo-kind', kind);
    await p.setInputFiles('#photo-file', process.env.PHOTO_FILE);
    await p.click('button:has-text("Upload photo")');
    await p.waitForURL(/#photos$/);
  }
  const figures = p.locator('.before-after figure');
  if ((await figures.count()) !== 2) fail(`before/after figures: ${await figures.count()}`);
  const [left, right] = [await figures.nth(0).boundingBox(), await figures.nth(1).boundingBox()];
  if (!(Math.abs(left.y - right.y) < 2 && right.x > left.x + left.width - 1)) {
    fail(`before and after are not side by side: ${JSON.stringify([left, right])}`);
  }
  await p.locator('#photos').screenshot({ path: `${out}/provider-photos.png` });
  const photoSrc = await p.locator('.before-after img').first().getAttribute('src');
  const shown = await p.request.get(`${base}${photoSrc}`);
  if (shown.status() !== 200 || shown.headers()['content-type'] !== 'image/jpeg') fail(`thumbnail: ${shown.status()}`);
  await p.click('button:has-text("Issue portal login")');
  const code = (await p.textContent('.code')).trim();
  await p.screenshot({ path: `${out}/provider-login-slip.png` });
  if (!/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(code)) fail(`login code: ${code}`);

  // Patient, without JavaScript.
  const patientCtx = await browser.newContext({ javaScriptEnabled: false });
  const a = await patientCtx.newPage();
  watch(a, 'patient');
  await a.goto(`${base}/activate?code=${code}`);
  await a.fill('#password', 'ana own passphrase');
  await a.click('button[type=submit]');
  if (!a.url().endsWith('/portal')) fail(`after activation: ${a.url()}`);
  const today = await a.textContent('section.today');
  if (!today.includes('Days 2–7')) fail(`today's stage: ${today}`);
  if (!today.includes('micro-bruising')) fail(`no bruising note in today's stage: ${today}`);
  // The patient signs the clinic's consent, on the portal's own page.
  await a.goto(`${base}/portal/consent`);
  await expectText(a, 'Consent to micro-needling');
  await a.fill('#typed_name', 'Ana Silva');
  await a.check('#agree');
  await a.click('button:has-text("Sign")');
  await expectText(a, 'You signed version 1');
  await a.setViewportSize({ width: 390, height: 900 });
  await a.screenshot({ path: `${out}/portal-consent-phone.png`, fullPage: true });
  // The clinic does not let patients see photos: one of hers is "not found" to her.
  const hidden = await a.request.get(`${base}${photoSrc.replace('/thumbnail', '')}`);
  if (hidden.status() !== 404) fail(`a patient without permission got ${hidden.status()} for a photo`);
  await a.goto(`${base}/portal`);
  // A check-in with something the aftercare did not mention reaches the provider's queue.
  await a.check('#effect-dryness');
  await a.check('#unexpected');
  await a.fill('#note', 'a rash on my neck');
  await a.click('button:has-text("Send my check-in")');
  await expectText(a, 'Your clinic will review this.');
  await p.goto(`${base}/patients`);
  await expectText(p, 'Needs attention (1)');
  await p.click('text=Needs attention (1)');
  await expectText(p, 'a rash on my neck');
  for (const [name, width] of [['phone', 390], ['desktop', 1280]]) {
    await a.setViewportSize({ width, height: 900 });
    await a.screenshot({ path: `${out}/portal-${name}.png`, fullPage: true });
  }

  // Accessibility, in JavaScript-enabled contexts carrying the same sessions (CSP bypassed for axe only).
  const violations = {};
  const pages = [
    ['login', null, `${base}/login`],
    ['record-session', providerCtx, patientUrl],
    ['portal', patientCtx, `${base}/portal`],
    ['alerts', providerCtx, `${base}/alerts`],
  ];
  for (const [name, from, url] of pages) {
    const ctx = await browser.newContext({
      bypassCSP: true,
      storageState: from ? await from.storageState() : undefined,
    });
    const page = await ctx.newPage();
    watch(page, `axe ${name}`);
    await page.goto(url);
    if (page.url() !== url) fail(`${name}: redirected to ${page.url()}`);
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    violations[name] = serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
    await ctx.close();
  }
  const bad = Object.entries(violations).filter(([, v]) => v.length > 0);
  if (bad.length > 0) fail(`serious or critical accessibility violations: ${JSON.stringify(bad)}`);
  if (consoleErrors.length > 0) fail(`console errors: ${JSON.stringify(consoleErrors)}`);
  console.log(JSON.stringify({ ok: true, code_format: 'ok', screenshots: [`${out}/portal-phone.png`, `${out}/portal-desktop.png`], violations }));
} catch (e) {
  if (!process.exitCode) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
