import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../api/helpers';
import { EXPLANATION_METHODS, METRICS, TASK_KINDS } from '../../main/api/vocabulary';

/**
 * The renderer reaches the engine's code only through the API contract (main/api): record types,
 * methods, errors and the study vocabulary come from there, so the store, the metrics and the protocol
 * can change behind it. Like the Electron-import test in shell.test.ts, this reads every import.
 */
const RENDERER = join(repoRoot, 'renderer', 'src');
const API = join(repoRoot, 'main', 'api');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|svelte)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
export function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** Why an import from `file` breaks the boundary, or null when it is allowed. */
export function boundaryProblem(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return spec === 'svelte' || spec.startsWith('svelte/') ? null : `imports the package "${spec}"`;
  const target = resolve(dirname(file), spec);
  if (target.startsWith(RENDERER + '/') || target.startsWith(API + '/')) return null;
  return `imports ${relative(repoRoot, target)}, outside renderer/ and the API contract main/api/`;
}

describe('renderer boundary', () => {
  it('finds a forbidden import (the checker itself)', () => {
    const file = join(RENDERER, 'screens', 'X.svelte');
    const code = `<script lang="ts">\n  import type { RunRecord } from '../../../main/store/types';\n  import { api } from '../lib/bridge';\n  import { x } from '../../../main/api/records';\n</script>`;
    const problems = specifiers(code).map((s) => boundaryProblem(file, s)).filter(Boolean);
    expect(problems).toEqual(['imports main/store/types, outside renderer/ and the API contract main/api/']);
  });

  it('the renderer imports only its own modules, svelte and main/api', () => {
    const files = sources(RENDERER);
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const f of files) {
      for (const s of specifiers(readFileSync(f, 'utf8'))) {
        const p = boundaryProblem(f, s);
        if (p) problems.push(`${relative(repoRoot, f)} ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the study form's task kinds, methods and metrics are the schema's own lists", () => {
    const study = readFileSync(join(RENDERER, 'screens', 'Study.svelte'), 'utf8');
    // no second list in the form: its choices come from main/api/vocabulary
    expect(study).toMatch(/from '\.\.\/\.\.\/\.\.\/main\/api\/vocabulary'/);
    for (const list of [TASK_KINDS, EXPLANATION_METHODS, METRICS]) {
      expect(study).not.toContain(`'${list[0]}', '${list[1]}'`);
    }
  });
});
