import { expect } from 'vitest';
import { skipReasonText } from '../../../renderer/src/lib/result-notes';
import type { ResultRecord } from '../../../main/store/types';
import { until, type Journey } from './context';

export const title = 'the Inspector on an invalid answer, a skipped example and a partial run: what the model said, and why';

export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  const store = j.s.t.wb.store;
  const inspector = page.getByTestId('inspector');
  const title = () => inspector.locator('strong').first();
  const externalId = (r: ResultRecord) => store.datasets.example(r.exampleId)!.externalId;
  /** Steps the Inspector to the `i`-th example of its list. */
  const stepTo = async (i: number) => {
    for (let k = 0; k < i; k++) await page.getByRole('button', { name: 'Next →' }).click();
  };

  // An invalid answer in one of the finished runs (the tiny models answer mostly garbage).
  const withInvalid = j.runIds!.find((id) => store.results.list(id, { relevance: false }).some((r) => r.label === 'invalid'));
  if (withInvalid === undefined) throw new Error(`no invalid answer in runs ${j.runIds!.join(', ')}: this chapter needs one`);
  const results = store.results.list(withInvalid, { relevance: false });
  const skipped = results.filter((r) => r.skippedReason);
  const inv = skipped.find((r) => r.label === 'invalid')!;

  // The analyst opens the Inspector on that run and asks for the skipped examples, invalid answers among them.
  await page.getByRole('tab', { name: 'Inspector' }).click();
  await page.getByLabel('Run').selectOption(String(withInvalid));
  await page.getByLabel('Show').selectOption('skipped');
  await page.getByText(`example 1 of ${skipped.length}`, { exact: true }).waitFor();
  await stepTo(skipped.indexOf(inv));
  await title().filter({ hasText: new RegExp(`^${externalId(inv).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
  // She sees that the answer is invalid, why, and what the model actually said.
  expect(await page.getByTestId('invalid-answer').textContent()).toBe('invalid answer — not scored for plausibility');
  const said = page.getByTestId('model-said');
  expect(await said.locator('q').first().textContent()).toBe(String(inv.rawOutputs.turn1) || '(nothing)');
  await j.s.shot('journey-07-invalid-answer');

  // A skipped example that is not an invalid answer (a text too long for the context, a label left out...):
  // the reason in words.
  const other = skipped.find((r) => r.label !== 'invalid');
  if (other) {
    await page.getByLabel('Show').selectOption('all');
    await page.getByLabel('Show').selectOption('skipped');
    await stepTo(skipped.indexOf(other));
    await title().filter({ hasText: externalId(other) }).waitFor();
    expect(await page.getByTestId('skip-reason').textContent()).toBe(`Skipped — ${skipReasonText(other)}.`);
    await j.s.shot('journey-07-skip-reason');
  }

  // She starts the study once more and opens the run while it goes on: its examples appear as they are stored.
  const before = new Set(store.runs.list().map((r) => r.id));
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  await page.getByLabel('Start a saved study').selectOption(String(j.studyId));
  await page.getByRole('button', { name: 'Start run' }).click();
  const fresh = () => store.runs.list().filter((r) => !before.has(r.id));
  await until(() => fresh().some((r) => r.status === 'running' && r.progress.done >= 1), 300_000, 'a new run with a stored example');
  const live = fresh().find((r) => r.status === 'running')!;
  const row = page.getByTestId('runs-table').locator(`tr[data-run="${live.id}"]`);
  await row.getByRole('button', { name: 'Results so far' }).click();
  await page.getByLabel('Show').selectOption('all');
  const partial = page.getByTestId('inspector-partial');
  await partial.waitFor();
  expect(await partial.textContent()).toMatch(new RegExp(`^Run ${live.id} is (running|queued|done)?`));
  await inspector.waitFor();
  await j.s.shot('journey-07-partial-running');
  // The examples stored since she opened it appear without her doing anything (the screen follows the run).
  const count = async () => Number((await page.getByText(/^example \d+ of \d+$/).textContent())!.match(/of (\d+)$/)![1]);
  const atFirst = await count();
  await expect.poll(count, { timeout: 120_000, interval: 250 }).toBeGreaterThan(atFirst);
  await j.s.shot('journey-07-partial-grown');

  // She stops it (Cancel): the stopped run's stored examples stay open in the Inspector.
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  const cancel = row.getByRole('button', { name: 'Cancel' });
  if (await cancel.count()) await cancel.click();
  await until(() => !['running', 'queued'].includes(store.runs.get(live.id)!.status), 120_000, 'the run to stop');
  const stopped = store.runs.get(live.id)!;
  if (stopped.status !== 'done') {
    await row.getByRole('button', { name: 'Results so far' }).click();
    await page.getByLabel('Show').selectOption('all');
    await expect.poll(() => partial.textContent()).toBe(
      `Run ${live.id} is ${stopped.status}: ${stopped.progress.done} of ${stopped.progress.total} examples stored so far; its metrics come when it is done.`,
    );
    await inspector.waitFor();
    await j.s.shot('journey-07-partial-stopped');
  }
}
