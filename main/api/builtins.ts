import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltinStudy } from './catalogue';

/**
 * Built-in studies are the JSON study files in studies/ (written by the study-runner work): each
 * becomes a starting point for the study form. A file that does not parse is listed with its error
 * in the description rather than hidden.
 */
export function builtinStudies(dir = join(process.cwd(), 'studies')): BuiltinStudy[] {
  if (!existsSync(dir)) return [];
  const out: BuiltinStudy[] = [];
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.study.json') || /^[^/]+\.json$/.test(f));
  for (const f of files.sort()) {
    const name = f.replace(/\.study\.json$|\.json$/, '');
    try {
      const config = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      out.push({
        name,
        title: typeof config.name === 'string' ? config.name : name,
        description: typeof config.description === 'string' ? config.description : '',
        config,
      });
    } catch (e) {
      out.push({ name, title: name, description: `cannot read ${f}: ${(e as Error).message}`, config: null });
    }
  }
  return out;
}
