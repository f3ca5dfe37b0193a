// Drives the listener page in Debian's Chromium (headless) and reports what a listener would notice,
// one JSON object per line on stdout; pytest (test_listener_page.py) reads and judges them.
//
//   node listener-page.mjs SCENARIO PAGE_URL DEBATE_ID SHOTS_DIR
//
// SCENARIO: play (open the debate from the list, playback advances), jump (the third speaker's
// chapter from the keyboard), search (a speaker's name, then the hit of one of their interventions),
// live and job (print {"ready": true} once the page follows the sitting's events, then wait for
// "now speaking", or the ingest's progress, to show), ingest (a debate still being packaged: the
// page plays it progressively, then the published version with its chapters), share (a shared range
// /?debate=&t=&end= plays and stops at its end; the share form, the intervention's clip, the podcast
// feeds). job and ingest take the job id as a fifth argument.
//
// Every state a scenario reaches (the list, a debate, search results, live, a job) is also audited
// with axe-core (WCAG 2.0/2.1 A and AA, best practices); the report's "a11y" lists the violations.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [scenario, pageUrl, debateId, shots] = process.argv.slice(2);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];
const PHONE = { width: 390, height: 844 };
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const violations = [];

// evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as it is
async function audit(page, state) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  for (const v of found.violations) {
    violations.push({
      state, id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
    });
  }
}

function report(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

const audioTime = (page) => page.evaluate(() => document.getElementById('audio').currentTime);

async function playing(page, after = 0.5) {
  await page.waitForFunction((t) => document.getElementById('audio').currentTime > t, after, { timeout: 30000 });
}

async function searchFor(page, words) {
  await page.getByLabel('Rechercher un débat, un sujet, un député').fill(words);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#list-status:has-text("résultat")');
}

async function play(page) {
  await page.goto(pageUrl);
  await page.locator('#debate-list a.debate-link').first().waitFor();  // the newest debates
  await audit(page, 'list (phone)');
  const listed = await page.locator('#debate-list li').count();
  // other tests' debates may be newer: find this one as a listener would
  await searchFor(page, 'Séance de démonstration');
  await page.locator(`a[data-debate-id="${debateId}"]`).first().click();
  await playing(page, 1.0);
  const first = await audioTime(page);
  await page.waitForTimeout(1500);
  const second = await audioTime(page);
  await page.screenshot({ path: path.join(shots, 'playing-phone.png'), fullPage: true });
  await audit(page, 'debate (phone)');
  return {
    listed,
    first,
    second,
    title: await page.locator('#debate-title').textContent(),
    chapters: await page.locator('button.chapter').count(),
    current: await page.locator('button.chapter[aria-current="true"] .who').textContent(),
    now_speaking: await page.locator('#now-speaking').textContent(),
    download: await page.locator('#download').getAttribute('href'),
    live_badge: await page.locator('#live-badge').isVisible(),
    // a phone-sized screen: nothing wider than the screen, every control named for screen readers
    overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    unlabelled: await page.evaluate(() => [...document.querySelectorAll('input, button, audio, a')]
      .filter((e) => !e.hidden && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
        && !e.textContent.trim())
      .map((e) => e.outerHTML.slice(0, 80))),
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
  await audit(page, 'debate (desktop)');
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
  await audit(page, 'live (phone)');
  return {
    before,
    now_speaking: await page.locator('#now-speaking').textContent(),
    now_label: await page.locator('#now-label').textContent(),
    live_badge: await page.locator('#live-badge').isVisible(),
    aria_live: await page.locator('.now').getAttribute('aria-live'),
  };
}

async function search(page) {
  await page.goto(pageUrl);
  await searchFor(page, 'Mélenchon');
  await audit(page, 'search results (phone)');
  const hits = page.locator(`#debate-list a[data-debate-id="${debateId}"]`);
  const texts = await hits.allTextContents();
  const chapterHit = hits.filter({ hasText: 'Jean-Luc Mélenchon (LFI)' }).first();
  await chapterHit.click();
  await playing(page, 0.1);
  await playing(page, (await audioTime(page)) + 0.5);  // and playing on from there
  return {
    texts,
    url: page.url(),
    now_speaking: await page.locator('#now-speaking').textContent(),
    time: await audioTime(page),
  };
}

async function job(page) {
  // JOB_ID comes as a fifth argument: the page was opened from the demo's "listen" URL
  await page.goto(`${pageUrl}?debate=${debateId}&job=${process.argv[6]}`);
  await page.waitForSelector('body[data-events="open"]', { timeout: 15000 });
  report({ ready: true });
  await page.waitForSelector('#job:not([hidden])', { timeout: 30000 });
  await page.screenshot({ path: path.join(shots, 'job-phone.png') });
  await audit(page, 'job progress (phone)');
  return {
    stage: await page.locator('#job-stage').textContent(),
    progress: await page.locator('#job-progress').getAttribute('value'),
    label: await page.locator('label[for="job-progress"]').textContent(),
  };
}

async function ingest(page) {
  // opened as soon as the ingest is accepted (the demo's "listen" URL); DEBATE_ID is the new debate
  const stages = new Set();
  let playedWhilePackaging = false;
  await page.goto(`${pageUrl}?debate=${debateId}&job=${process.argv[6]}`);
  const deadline = Date.now() + 90000;
  while (Date.now() < deadline) {
    const seen = await page.evaluate(() => ({
      job: document.getElementById('job').hidden ? null : document.getElementById('job-stage').textContent,
      time: document.getElementById('audio').currentTime,
      chapters: document.querySelectorAll('button.chapter').length,
    }));
    if (seen.job) stages.add(seen.job.split(' — ')[0]);
    if (seen.time > 0 && seen.chapters === 0) playedWhilePackaging = true;
    // the published version: its chapters are listed and it plays
    if (seen.time > 1.0 && seen.chapters > 0) break;
    await page.waitForTimeout(100);
  }
  return {
    stages: [...stages],
    played_while_packaging: playedWhilePackaging,
    time: await audioTime(page),
    chapters: await page.locator('button.chapter').count(),
    job_hidden: await page.locator('#job').isHidden(),
    message: await page.locator('#player-message').textContent(),
  };
}

async function share(page) {
  // a shared moment: 10 s to 13 s of the sitting
  await page.goto(`${pageUrl}?debate=${debateId}&t=10&end=13`);
  await page.waitForFunction(() => {
    const audio = document.getElementById('audio');
    return audio.currentTime > 10 && audio.paused && document.getElementById('range-status').textContent;
  }, null, { timeout: 30000 });
  const stopped = await audioTime(page);
  const rangeStatus = await page.locator('#range-status').textContent();
  await page.waitForTimeout(500);
  const stillStopped = await audioTime(page);

  // "Partager ce moment": from now to the end of this intervention, both editable
  await page.getByText('Partager ce moment').click();
  // <details> fires its toggle event (which fills the form) in a task of its own, after the click
  await page.waitForFunction(() => document.getElementById('share-url').value !== '', null, { timeout: 5000 });
  const defaults = {
    start: await page.getByLabel('Début (min:s)').inputValue(),
    end: await page.getByLabel('Fin (min:s)').inputValue(),
    url: await page.getByLabel('Lien vers ce moment').inputValue(),
  };
  await page.getByLabel('Fin (min:s)').fill('0:05');  // before the start: refused, said so
  const refused = {
    status: await page.locator('#share-status').textContent(),
    url: await page.getByLabel('Lien vers ce moment').inputValue(),
    invalid: await page.getByLabel('Fin (min:s)').getAttribute('aria-invalid'),
  };
  await page.getByLabel('Début (min:s)').fill('0:12');
  await page.getByLabel('Fin (min:s)').fill('0:20');
  const edited = await page.getByLabel('Lien vers ce moment').inputValue();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copier le lien' }).click();
  await page.waitForSelector('#share-status:has-text("copié")', { timeout: 5000 });
  const copied = await page.evaluate(() => navigator.clipboard.readText());

  const clip = page.getByRole('link', { name: 'Télécharger cette intervention' });
  const clipHref = await clip.getAttribute('href');
  const clipResponse = await page.request.get(new URL(clipHref, pageUrl).href);
  await page.screenshot({ path: path.join(shots, 'share-phone.png'), fullPage: true });

  await audit(page, 'share');
  const axe = violations.filter((v) => v.state === 'share');
  return {
    stopped,
    still_stopped: stillStopped,
    range_status: rangeStatus,
    defaults,
    refused,
    edited,
    copied,
    clip_href: clipHref,
    clip_status: clipResponse.status(),
    clip_type: clipResponse.headers()['content-type'],
    subscribe_body: await page.locator('#subscribe-body').getAttribute('href'),
    subscribe_speaker: await page.locator('#subscribe-speaker').getAttribute('href'),
    subscribe_speaker_text: await page.locator('#subscribe-speaker').textContent(),
    axe,
  };
}


async function words(page) {
  // the words of the sitting: captions at a seek point, the transcript panel, a passage found by search
  // hls.js (the full build: the page vendors the light one, without subtitles) lists the words' rendition
  // on a blank page of the server's origin, served by the driver itself (the real page's CSP
  // forbids the injected script; another origin meets Chromium's private-network checks)
  const probe = page;
  const blank = `${pageUrl}__hlsjs_probe`;
  await probe.route(blank, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>probe</title>' }));
  await probe.goto(blank);
  await probe.addScriptTag({ path: path.join(import.meta.dirname, 'node_modules/hls.js/dist/hls.min.js') });
  const subtitleTracks = await probe.evaluate((url) => new Promise((resolve, reject) => {
    const hls = new window.Hls();
    // the tracks of the playing variant's SUBTITLES group, once a variant is chosen
    hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, data) => {
      resolve(data.subtitleTracks.map((t) => `${t.name}|${t.lang}|${t.groupId}`).join(','));
    });
    hls.on(window.Hls.Events.ERROR, (_e, data) => { if (data.fatal) reject(new Error(data.details)); });
    hls.loadSource(url);
    hls.attachMedia(document.createElement('audio'));
  }), `${pageUrl}hls/${debateId}/master.m3u8`);
  await page.goto(`${pageUrl}?debate=${debateId}&t=20`);
  await page.locator('#captions-toggle:not([hidden])').waitFor({ timeout: 30000 });
  await page.locator('#captions-toggle').click();
  await page.waitForFunction(() => document.getElementById('caption-text').textContent.length > 0
    && document.getElementById('audio').currentTime > 20, null, { timeout: 30000 });
  await page.evaluate(() => document.getElementById('audio').pause());
  const at = await audioTime(page);
  await page.screenshot({ path: path.join(shots, 'captions-phone.png'), fullPage: true });
  const caption = {
    time: at,
    speaker: await page.locator('#caption-speaker').textContent(),
    text: await page.locator('#caption-text').textContent(),
    aria_live: await page.locator('#captions').getAttribute('aria-live'),
    pressed: await page.locator('#captions-toggle').getAttribute('aria-pressed'),
  };
  await audit(page, 'captions and transcript');
  const current = await page.locator('button.paragraph[aria-current="true"] .who').textContent();
  const paragraphs = await page.locator('button.paragraph').count();
  // a click on a paragraph seeks there
  const second = page.locator('button.paragraph').nth(1);
  const start = Number(await second.getAttribute('data-start'));
  await second.click();
  await page.waitForFunction((s) => Math.abs(document.getElementById('audio').currentTime - s) < 1, start,
    { timeout: 15000 });
  // speed is remembered across visits
  await page.locator('#speed').selectOption('1.5');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('audio').readyState > 0, null, { timeout: 30000 });
  const speed = await page.evaluate(() => document.getElementById('audio').playbackRate);
  // search finds the words said, and opens the sitting at that second
  await searchFor(page, 'équilibre financier');
  const passages = page.locator(`#debate-list a[data-debate-id="${debateId}"][data-kind="passage"]`);
  const passageCount = await passages.count();
  const href = await passages.first().getAttribute('href');
  await passages.first().click();
  const said = Number(new URL(href, pageUrl).searchParams.get('t'));
  // playing from there (the sitting was playing further on before the click)
  await page.waitForFunction((t) => {
    const now = document.getElementById('audio').currentTime;
    return now > t && now < t + 5;
  }, said, { timeout: 30000 });
  await audit(page, 'passage search results');
  return {
    subtitle_tracks: subtitleTracks,
    caption,
    current_paragraph: current,
    paragraphs,
    clicked_start: start,
    speed,
    passages: passageCount,
    passage_href: href,
    passage_time: await audioTime(page),
    captions_still_on: await page.locator('#captions-toggle').getAttribute('aria-pressed'),
  };
}

const scenarios = { play, jump, live, search, job, ingest, share, words };
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
  report({ result, errors, a11y: violations });
} catch (error) {
  report({ failure: String(error && error.stack || error), errors, a11y: violations });
  process.exitCode = 1;
} finally {
  await browser.close();
}
