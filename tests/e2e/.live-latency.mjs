
import { chromium } from 'playwright-core';
const [page_url, master, seconds] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required'] });
for (const [low, catchUp] of [[true, 1], [true, 1.5], [false, 1]]) {
  const page = await browser.newPage();
  await page.goto(page_url);
  await page.evaluate(([m, l, c]) => window.start(m, l, c), [master, low, catchUp]);
  const samples = [];
  const until = Date.now() + Number(seconds) * 1000;
  await page.waitForTimeout(8000);  // let the player settle on its target latency
  while (Date.now() < until + 8000) {
    const value = await page.evaluate(() => window.latency());
    if (value !== null) samples.push(value / 1000);
    await page.waitForTimeout(500);
  }
  process.stdout.write(JSON.stringify({ low_latency: low, catch_up: catchUp, samples }) + '\n');
  await page.close();
}
await browser.close();
