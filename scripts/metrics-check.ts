/**
 * The metrics check: recompute every metric of the runs in a JSONL export from the file alone and compare
 * with the metrics the runs stored (main/reports/metrics-check.ts).
 *
 *   npm run --silent cli -- report <runId> --jsonl run.jsonl
 *   npx tsx scripts/metrics-check.ts run.jsonl [--tolerance 1e-12]
 *
 * Prints one line per run; exits 1 when anything disagrees (each difference on its own line).
 */
import { readFileSync } from 'node:fs';
import { checkExport } from '../main/reports/metrics-check';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const t = args.indexOf('--tolerance');
  const tolerance = t >= 0 ? Number(args[t + 1]) : 1e-12;
  if (!file || !(tolerance >= 0)) {
    console.error('usage: npx tsx scripts/metrics-check.ts <export.jsonl> [--tolerance 1e-12]');
    return 2;
  }
  const runs = await checkExport(readFileSync(file, 'utf8'), { tolerance, file });
  let bad = 0;
  for (const r of runs) {
    console.log(`run ${r.runId}: ${r.examples} examples, ${r.metrics} stored metrics, ${r.readouts} masked readouts${r.faithfulnessAsExported ? ` (${r.faithfulnessAsExported} examples' faithfulness taken as exported: no readouts)` : ''}: ${r.problems.length ? `${r.problems.length} differences` : `all agree to ${tolerance}`}`);
    for (const p of r.problems) console.log(`  ${p}`);
    bad += r.problems.length;
  }
  if (runs.length === 0) console.log('no runs in the file');
  return bad || runs.length === 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
});
