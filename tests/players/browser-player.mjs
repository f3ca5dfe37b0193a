// hls.js or Shaka Player in Debian's Chromium (playwright-core), on a page of another origin (CORS is
// part of the test). Prints one JSON line: the samples taken every 250 ms (position, duration, ended,
// errors), where a seek landed.
//
//   node browser-player.mjs NODE_MODULES hlsjs|shaka MASTER_URL vod|live SECONDS [SEEK_TO]
//
// VOD: plays, seeks to SEEK_TO, plays on at 4x to the end. Live: low-latency mode, plays SECONDS.
import path from 'node:path';

import { launchChromium } from '../e2e/chromium.mjs';

const [modules, player, master, mode, seconds, seekTo] = process.argv.slice(2);
const browser = await launchChromium(modules);
const page = await browser.newPage();
const consoleErrors = [];
page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
page.on('pageerror', (error) => consoleErrors.push(String(error)));
await page.setContent('<audio id="audio" muted></audio>');
const script = player === 'shaka'
  ? path.join(modules, 'shaka-player', 'dist', 'shaka-player.compiled.js')
  : path.join(modules, 'hls.js', 'dist', 'hls.min.js');
await page.addScriptTag({ path: script });

const live = mode === 'live';
const supported = await page.evaluate(async ({ player, url, live }) => {
  const audio = document.getElementById('audio');
  window.errors = [];
  window.variants = [];
  if (player === 'shaka') {
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) return false;
    const shakaPlayer = new shaka.Player();
    await shakaPlayer.attach(audio);
    shakaPlayer.configure({ streaming: { lowLatencyMode: live } });
    shakaPlayer.addEventListener('error', (event) => window.errors.push(`shaka ${event.detail.code}`));
    window.player = shakaPlayer;
    try {
      await shakaPlayer.load(url);
    } catch (error) {
      window.errors.push(`shaka load ${error.code}`);
      return true;
    }
    window.variants = shakaPlayer.getVariantTracks().map((t) => t.bandwidth);
  } else {
    if (!Hls.isSupported()) return false;
    const hls = new Hls({ lowLatencyMode: live });
    hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) window.errors.push(`hls.js ${data.details}`); });
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => { window.variants = data.levels.map((l) => l.bitrate); });
    hls.loadSource(url);
    hls.attachMedia(audio);
    window.player = hls;
  }
  audio.addEventListener('error', () => window.errors.push(`media error ${audio.error && audio.error.code}`));
  audio.addEventListener('ended', () => { window.ended = true; });
  await audio.play().catch((error) => window.errors.push(`play ${error}`));
  return true;
}, { player, url: master, live });

const sample = () => page.evaluate(() => ({
  time: document.getElementById('audio').currentTime,
  duration: document.getElementById('audio').duration,
  ended: Boolean(window.ended),
  errors: window.errors,
}));
const samples = [];
let seek = null;
const until = Date.now() + Number(seconds) * 1000;
if (supported) {
  // playing first
  while (Date.now() < until && (await sample()).time < 1.0 && !(await sample()).errors.length) {
    await page.waitForTimeout(250);
  }
  if (!live && seekTo) {
    await page.evaluate((to) => { document.getElementById('audio').currentTime = to; }, Number(seekTo));
    await page.waitForTimeout(1000);
    seek = (await sample()).time;
    await page.evaluate(() => { document.getElementById('audio').playbackRate = 4; });
  }
  while (Date.now() < until) {
    const now = await sample();
    samples.push(now);
    if (now.ended || now.errors.length) break;
    await page.waitForTimeout(250);
  }
}
const variants = await page.evaluate(() => window.variants).catch(() => []);
process.stdout.write(JSON.stringify({ supported, seek, samples, variants, consoleErrors }) + '\n');
await browser.close();
