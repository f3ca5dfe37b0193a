// Opens /api/docs in Debian's Chromium (headless) with an attacker's ?url= and ?configUrl= and reports,
// as one JSON line, which spec the page shows and which hosts it asked (tests/e2e/test_api_docs.py).
//
//   node api-docs.mjs DOCS_URL
import { chromium } from 'playwright-core';

const [docsUrl] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.ROBIAN_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  const requested = [];
  const problems = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(docsUrl);
  const title = page.locator('.swagger-ui .info .title');
  await title.waitFor({ timeout: 30000 });
  await page.locator('.opblock').first().waitFor({ timeout: 30000 });
  process.stdout.write(JSON.stringify({
    title: (await title.textContent()).trim(),
    operations: await page.locator('.opblock').count(),
    requested,
    problems,
  }) + '\n');
} finally {
  await browser.close();
}
