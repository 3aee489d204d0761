/**
 * HTML → PDF with a headless Chromium driven by playwright-core (CLI side; the Electron app uses printToPDF
 * on the same HTML). The browser gets a fresh, throw-away profile each time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium to use: $RW_CHROMIUM, else the first system install found. */
export function findChromium(): string {
  const env = process.env.RW_CHROMIUM;
  if (env) {
    if (!existsSync(env)) throw new Error(`RW_CHROMIUM=${env}: no such file`);
    return env;
  }
  const hit = CANDIDATES.find((p) => existsSync(p));
  if (!hit) {
    throw new Error(
      `no Chromium found (looked in ${CANDIDATES.join(', ')}); install the "chromium" package (scripts/setup.sh does) or set RW_CHROMIUM`,
    );
  }
  return hit;
}

export interface PdfOptions {
  chromium?: string;
  /** Milliseconds for launch + render; default 60 s. */
  timeoutMs?: number;
}

/** Prints `html` to `outFile` (A4, backgrounds printed). */
export async function htmlToPdf(html: string, outFile: string, opts: PdfOptions = {}): Promise<void> {
  const { chromium } = await import('playwright-core');
  const exe = opts.chromium ?? findChromium();
  const timeout = opts.timeoutMs ?? 60_000;
  const profile = mkdtempSync(join(tmpdir(), 'rw-chromium-'));
  try {
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless: true,
      timeout,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
    });
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(timeout);
      await page.setContent(html, { waitUntil: 'load' });
      await page.emulateMedia({ media: 'print' });
      await page.pdf({
        path: outFile,
        format: 'A4',
        printBackground: true,
        preferCSSPageSize: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate:
          '<div style="font-size:7pt;width:100%;text-align:center;color:#777;font-family:DejaVu Sans,sans-serif">Rationale Workbench report · page <span class="pageNumber"></span> / <span class="totalPages"></span></div>',
      });
    } finally {
      await ctx.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
