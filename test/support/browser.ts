// Debian's Chromium driven by playwright-core (which never downloads a browser here: it is only given
// an executable path). Headless, no network services of its own, optionally with a fake microphone
// playing a WAV file. Failures leave a screenshot and the page's console in a folder whose path is
// printed, so a red run in CI can be understood without re-running it.
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from './koe-process.js';

export const CHROMIUM_PATH = process.env.KOE_TEST_CHROMIUM ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Timers of a page that is not in front must not be throttled: the live dashboard is measured.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export interface LaunchOptions {
  /** A 16-bit PCM WAV the fake microphone plays (Chromium loops it). */
  fakeMicWav?: string;
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}; install Debian's: apt-get install -y chromium (or set KOE_TEST_CHROMIUM)`);
  }
  const args = [...BASE_ARGS];
  if (opts.fakeMicWav) {
    args.push(
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${opts.fakeMicWav}`,
      '--autoplay-policy=no-user-gesture-required',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, timeout: 30_000 });
}

/** The dashboard build Koe serves; a clear error when it is missing or older than web/ sources. */
export function requireBuiltDashboard(): void {
  const index = join(REPO_ROOT, 'dist', 'web', 'index.html');
  if (!existsSync(index)) {
    throw new Error(`the dashboard is not built (${index} is missing): run \`npm run build:web\` first (\`npm test\` does)`);
  }
  const builtAt = statSync(index).mtimeMs;
  // What the build is made of (not web/README.md and the like).
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((name) => join(REPO_ROOT, 'web', name)).filter((path) => existsSync(path));
  const newest = sources
    .map((path) => (statSync(path).isDirectory() ? newestMtime(path) : { path, mtimeMs: statSync(path).mtimeMs }))
    .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a), { path: '', mtimeMs: 0 });
  if (newest.mtimeMs > builtAt) {
    throw new Error(`the dashboard build is older than ${newest.path}: run \`npm run build:web\` again`);
  }
}

function newestMtime(dir: string): { path: string; mtimeMs: number } {
  let best = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestMtime(full) : { path: full, mtimeMs: statSync(full).mtimeMs };
    if (candidate.mtimeMs > best.mtimeMs) best = candidate;
  }
  return best;
}

/** A page that keeps its console messages and page errors, for failure reports. */
export interface TrackedPage {
  context: BrowserContext;
  page: Page;
  console: string[];
}

export async function openPage(browser: Browser, baseUrl: string, opts: { permissions?: string[]; locale?: string } = {}): Promise<TrackedPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 1280, height: 900 },
    locale: opts.locale ?? 'en-US',
    ...(opts.permissions ? { permissions: opts.permissions } : {}),
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => log.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { context, page, console: log };
}

/** Runs `fn`; if it throws, saves a screenshot, the page's HTML and console next to each other and says where. */
export async function withFailureCapture<T>(name: string, tracked: TrackedPage | (() => TrackedPage | undefined), fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const target = typeof tracked === 'function' ? tracked() : tracked;
    if (target && !target.page.isClosed()) {
      const dir = mkdtempSync(join(tmpdir(), `koe-browser-failure-${name.replace(/[^a-z0-9]+/gi, '-')}-`));
      try {
        await target.page.screenshot({ path: join(dir, 'page.png'), fullPage: true, timeout: 5_000 });
        writeFileSync(join(dir, 'page.html'), await target.page.content());
      } catch {
        // the page may be gone; the console log below still helps
      }
      writeFileSync(join(dir, 'console.log'), `${target.page.url()}\n${target.console.join('\n')}\n`);
      console.error(`# ${name} failed: screenshot, HTML and console of the page in ${dir}`);
    }
    throw err;
  }
}

/** `[data-testid="…"]` */
export function tid(id: string): string {
  return `[data-testid="${id}"]`;
}

/** Signs in through the login form (web/src/pages/login-page.tsx) and waits for the signed-in shell. */
export async function loginInBrowser(page: Page, password: string): Promise<void> {
  if (!/\/login/.test(page.url())) await page.goto('/');
  await page.locator(tid('login-password')).fill(password);
  await page.locator(tid('login-submit')).click();
  await page.locator(tid('nav-live')).waitFor({ state: 'visible' });
}

/** The live page (`/`), with its WebSocket connected. */
export async function openLivePage(page: Page): Promise<void> {
  await page.locator(tid('nav-live')).click();
  await page.locator(tid('live-page')).waitFor({ state: 'visible' });
  await page.locator(`${tid('live-connection')}[data-state="open"]`).waitFor({ state: 'attached' });
}
