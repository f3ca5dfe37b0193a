// Debian's Chromium driven by playwright-core, headless, autoplay allowed: how every browser test and
// tool of the tests starts it (NOTES.md "Real clients").
import { createRequire } from 'node:module';
import path from 'node:path';

export async function launchChromium(modules) {
  const require = createRequire(path.join(modules, 'noop.js'));
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.ROBIAN_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--autoplay-policy=no-user-gesture-required'],
  });
}
