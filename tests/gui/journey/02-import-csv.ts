import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SCREENS_DIR } from '../harness';
import { analystCsv, type Journey } from './context';

export const title = 'imports her CSV: every problem of a broken copy at once, then the real file with its language and label mapping';

/** Her first export from the spreadsheet, before she cleaned it: four different problems in four rows. */
function brokenCsv(dir: string): string {
  const file = join(dir, 'analyst-reports-draft.csv');
  writeFileSync(
    file,
    [
      'id,text,label,language,rationale',
      'a1,"The workers had not been paid for months, the report says.",yes,en,"paid;months,"',
      'a2,,yes,en,', // the text got lost
      'a3,The factory opened a new canteen for its staff.,,en,', // no label
      'a4,Arbejderne fik ikke løn i flere måneder.,yes,,løn', // no language
      'a5,The employer kept her passport.,yes,en,visa', // a rationale word that is not in the text
    ].join('\n') + '\n',
  );
  return file;
}

async function chooseFile(j: Journey, file: string, name: string) {
  const p = j.s.page;
  const chooser = p.waitForEvent('filechooser');
  await p.getByRole('button', { name: 'Choose file…' }).click();
  await (await chooser).setFiles(file);
  await p.getByTestId('ds-file-name').filter({ hasText: name }).waitFor();
}

const datasetIds = (j: Journey) => j.s.t.wb.store.datasets.list().map((d) => d.id);

export async function run(j: Journey): Promise<void> {
  const p = j.s.page;
  // what is stored before (the first-run demo's datasets, when chapter 01 ran)
  const before = datasetIds(j);
  await p.getByRole('tab', { name: 'Datasets' }).click();
  await p.getByLabel('Format').selectOption('csv');

  // She picks the draft first. The form reads it at once (nothing is stored) and lists every problem,
  // each with its row and field, instead of one per try.
  await chooseFile(j, brokenCsv(j.dir), 'analyst-reports-draft.csv');
  const problems = p.getByTestId('import-problems');
  await problems.waitFor({ timeout: 60_000 });
  const listed = await problems.locator('li').allTextContents();
  expect(listed).toEqual([
    'row 3, field “text”: is empty',
    'row 4, field “label”: is empty',
    // in the app the language error points to the form's Language field, not to a command-line flag
    'row 5, field “language”: no language: add a "language" column or fill in the Language field of the import form',
    'row 6, field “rationale”: rationale word "visa" is not a (remaining) whitespace word of the text',
  ]);
  expect(await problems.textContent()).toContain('has 4 problems; nothing will be imported');
  await j.s.shot('journey-02-draft-every-problem');
  expect(datasetIds(j)).toEqual(before);

  // Then the clean file. The preview shows the labels it found (yes/no) and warns about the long report.
  await chooseFile(j, analystCsv(j.dir), 'analyst-reports.csv');
  const mapping = p.getByTestId('label-mapping');
  await mapping.waitFor({ timeout: 60_000 });
  expect(await p.getByTestId('preview-summary').textContent()).toMatch(/6 examples in en \(4\), da \(2\)/);
  expect(await p.getByTestId('preview-long').first().textContent()).toMatch(/1 text longer than about 2,048 tokens \(estimated from length\): a6/);
  // Her rows carry their language; she fills in English for any row that would not.
  await p.getByLabel('Language').fill('en');
  // "yes" and "no" say whether the article shows the indicator: she maps them to the canonical yes/no.
  await p.getByLabel('map label yes').selectOption('yes');
  await p.getByLabel('map label no').selectOption('no');
  await j.s.shot('journey-02-preview-labels-mapped');

  await p.getByRole('button', { name: 'Import' }).click();
  const report = p.getByTestId('import-report');
  await report.waitFor({ timeout: 60_000 });
  const text = (await report.textContent()) ?? '';
  // the counts: six examples, four with a human rationale (the two empty ones are not counted)
  expect(text).toContain('Imported “analyst-reports”: 6 examples, 4 with a human rationale.');
  expect(text).toMatch(/Languages\s*en: 4, da: 2/);
  expect(text).toMatch(/Labels\s*yes: 4, no: 2/);
  // the long text, warned about with an estimate (no model is chosen yet)
  expect(text).toMatch(/1 of 6 texts is longer than about 4,096 tokens \(an estimate from characters and words/);
  expect(await p.getByTestId('report-label-map').textContent()).toContain('yes → yes, no → no');

  // The examples show her punctuated rationale words matched: "months," and "passport." are highlighted.
  const examples = p.getByTestId('examples');
  await examples.waitFor();
  const marked = await examples.locator('mark.rationale').allTextContents();
  expect(marked).toEqual(expect.arrayContaining(['paid', 'months,', 'kept', 'passport.', 'løn', 'måneder.']));
  await j.s.shot('journey-02-imported-report');
  // the report card alone (the long report makes the whole page tall)
  await report.screenshot({ path: join(SCREENS_DIR, 'journey-02-imported-report-card.png') });

  const ds = j.s.t.wb.store.datasets.list().find((d) => d.name === 'analyst-reports');
  expect(ds?.labelMap).toEqual({ yes: 'yes', no: 'no' });
  j.datasetId = ds!.id;
}
