import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, openBrowserMode } from './harness';
import type { Chapter, Journey } from './journey/context';

/**
 * An analyst's whole journey in the GUI (issue 12), as one story: the chapters in tests/gui/journey/,
 * in the order of their numbers, over one fresh data directory in Chromium (browser mode). Screenshots
 * of every step go to test-results/screens/journey-*.png.
 */
const CHAPTERS_DIR = join(__dirname, 'journey');
const files = readdirSync(CHAPTERS_DIR).filter((f) => /^\d\d-[\w-]+\.ts$/.test(f)).sort();
const chapters: [string, Chapter][] = await Promise.all(files.map(async (f) => [f, (await import(join(CHAPTERS_DIR, f))) as Chapter] as [string, Chapter]));

describe.skipIf(!chromiumAvailable)("an analyst's journey (Chromium, browser mode)", () => {
  const j = {} as Journey;
  beforeAll(async () => {
    j.dir = mkdtempSync(join(tmpdir(), 'rw-journey-'));
    j.s = await openBrowserMode({ firstRunDemo: true });
  });
  afterAll(async () => {
    await j.s?.close();
    rmSync(j.dir, { recursive: true, force: true });
  });

  for (const [file, chapter] of chapters) {
    it(`${file.slice(0, 2)}. ${chapter.title}`, async () => {
      try {
        await chapter.run(j);
      } catch (e) {
        await j.s.shot(`journey-${file.replace(/\.ts$/, '')}-FAILED`).catch(() => undefined);
        throw e;
      }
      expect(j.s.pageErrors).toEqual([]);
      // a chapter may run a whole study on the tiny model (chapter 05: three seeds, paused and resumed)
    }, 600_000);
  }
});
