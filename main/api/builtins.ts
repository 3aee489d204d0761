import { builtinStudyNames, resolveStudies } from '../studies/builtins';
import type { BuiltinStudy } from './catalogue';

/**
 * The built-in studies (studies/<name>.json, owned by the runner) as starting points for the study
 * form. A file that does not parse is listed with its error rather than hidden.
 */
export function builtinStudies(): BuiltinStudy[] {
  return builtinStudyNames().map((name) => {
    try {
      const [s] = resolveStudies(name);
      const c = s.config as Record<string, unknown>;
      return {
        name,
        title: typeof c.name === 'string' ? c.name : name,
        description: typeof c.description === 'string' ? c.description : '',
        config: c,
      };
    } catch (e) {
      return { name, title: name, description: (e as Error).message, config: null };
    }
  });
}
