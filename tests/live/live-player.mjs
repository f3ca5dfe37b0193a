// hls.js in Debian's Chromium (playwright-core) playing a live master in low-latency mode; prints one
// JSON line: what was played, how far behind the PROGRAM-DATE-TIME clock, which requests it made, the
// playlists its blocking reloads got.
//
//   node live-player.mjs NODE_MODULES MASTER_URL SECONDS
import path from 'node:path';

import { launchChromium } from '../e2e/chromium.mjs';

const [modules, master, seconds] = process.argv.slice(2);
const browser = await launchChromium(modules);
const page = await browser.newPage();
const requests = [];
page.on('request', (request) => requests.push(request.url()));
// the answers to blocking reloads (_HLS_msn): the playlist each one got, { url, body }
const reloads = [];
page.on('response', (response) => {
  if (!response.url().includes('_HLS_msn=')) return;
  reloads.push(response.text().then((body) => ({ url: response.url(), body }), () => null));
});
await page.setContent('<audio id="audio" muted></audio>');
await page.addScriptTag({ path: path.join(modules, 'hls.js', 'dist', 'hls.min.js') });
const supported = await page.evaluate((url) => {
  if (!Hls.isSupported()) return false;
  const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) window.fatal = data.details; });
  hls.loadSource(url);
  hls.attachMedia(document.getElementById('audio'));
  hls.on(Hls.Events.MANIFEST_PARSED, () => document.getElementById('audio').play());
  return true;
}, master);
const samples = [];
const until = Date.now() + Number(seconds) * 1000;
while (supported && Date.now() < until) {
  await page.waitForTimeout(500);
  samples.push(await page.evaluate(() => ({
    time: document.getElementById('audio').currentTime,
    latency: window.hls.playingDate ? (Date.now() - window.hls.playingDate.getTime()) / 1000 : null,
    lowLatency: window.hls.lowLatencyMode,
    fatal: window.fatal || null,
  })));
}
const answered = (await Promise.all(reloads)).filter((reload) => reload !== null);
process.stdout.write(JSON.stringify({ supported, samples, requests, reloads: answered }) + '\n');
await browser.close();
