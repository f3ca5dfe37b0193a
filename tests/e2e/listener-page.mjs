// Drives the listener page in Debian's Chromium (headless) and reports what a listener would notice,
// one JSON object per line on stdout; pytest (test_listener_page.py) reads and judges them.
//
//   node listener-page.mjs SCENARIO PAGE_URL DEBATE_ID SHOTS_DIR
//
// SCENARIO: play (open the debate from the list, playback advances), jump (the third speaker's
// chapter from the keyboard), live (prints {"ready": true} once the page follows the sitting's events,
// then waits for "now speaking" to change).
import { chromium } from 'playwright-core';
import path from 'node:path';

const [scenario, pageUrl, debateId, shots] = process.argv.slice(2);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];
const PHONE = { width: 390, height: 844 };

function report(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

const audioTime = (page) => page.evaluate(() => document.getElementById('audio').currentTime);

async function playing(page, after = 0.5) {
  await page.waitForFunction((t) => document.getElementById('audio').currentTime > t, after, { timeout: 30000 });
}

async function play(page) {
  await page.goto(pageUrl);
  await page.locator(`a[data-debate-id="${debateId}"]`).click();
  await playing(page, 1.0);
  const first = await audioTime(page);
  await page.waitForTimeout(1500);
  const second = await audioTime(page);
  await page.screenshot({ path: path.join(shots, 'playing-phone.png'), fullPage: true });
  return {
    first,
    second,
    title: await page.locator('#debate-title').textContent(),
    chapters: await page.locator('button.chapter').count(),
    current: await page.locator('button.chapter[aria-current="true"] .who').textContent(),
    now_speaking: await page.locator('#now-speaking').textContent(),
    download: await page.locator('#download').getAttribute('href'),
    live_badge: await page.locator('#live-badge').isVisible(),
  };
}

async function jump(page) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${pageUrl}?debate=${debateId}`);
  await playing(page);
  const third = page.locator('button.chapter').nth(2);
  const start = Number(await third.getAttribute('data-start'));
  const seeked = page.evaluate(() => new Promise((resolve) => {
    const audio = document.getElementById('audio');
    audio.addEventListener('seeked', () => resolve(audio.currentTime), { once: true });
  }));
  await third.focus();
  await page.keyboard.press('Enter');  // keyboard only: the chapter list is a list of buttons
  const landed = await seeked;
  await page.waitForFunction((s) => document.getElementById('audio').currentTime > s + 0.3, start, {
    timeout: 15000,
  });
  await page.screenshot({ path: path.join(shots, 'jumped-desktop.png') });
  return {
    start,
    landed,
    after: await audioTime(page),
    current: await page.locator('button.chapter[aria-current="true"]').getAttribute('data-index'),
    third_speaker: await third.locator('.who').textContent(),
    now_speaking: await page.locator('#now-speaking').textContent(),
  };
}

async function live(page) {
  await page.goto(`${pageUrl}?debate=${debateId}`);
  await page.waitForSelector('body[data-events="open"]', { timeout: 15000 });
  const before = await page.locator('#now-speaking').textContent();
  report({ ready: true });
  await page.waitForFunction(
    () => !document.getElementById('live-badge').hidden
      && document.getElementById('now-label').textContent.includes('micro'),
    null, { timeout: 30000 },
  );
  await page.screenshot({ path: path.join(shots, 'live-phone.png') });
  return {
    before,
    now_speaking: await page.locator('#now-speaking').textContent(),
    now_label: await page.locator('#now-label').textContent(),
    live_badge: await page.locator('#live-badge').isVisible(),
    aria_live: await page.locator('.now').getAttribute('aria-live'),
  };
}

const scenarios = { play, jump, live };
const browser = await chromium.launch({
  executablePath: process.env.ROBIAN_CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: PHONE });
  page.on('pageerror', (error) => errors.push('pageerror: ' + error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push('console: ' + message.text());
  });
  const result = await scenarios[scenario](page);
  report({ result, errors });
} catch (error) {
  report({ failure: String(error && error.stack || error), errors });
  process.exitCode = 1;
} finally {
  await browser.close();
}
