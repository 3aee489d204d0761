/**
 * `npm run bench -- <name> [args]`: runs one benchmark script (bench/<name>.ts) in this process.
 * Each script prints its own figures as ratios against a baseline measured in the same run.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <${names.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
process.argv = [process.argv[0], join(here, `${name}.ts`), ...rest];
await import(join(here, `${name}.ts`));
