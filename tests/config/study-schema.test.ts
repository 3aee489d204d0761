import { describe, expect, it } from 'vitest';
import { DEFAULT_LABELS, parseStudyConfig, type StudyConfig } from '../../main/config/study-schema';
import { builtinDefinitions } from '../../main/protocol/indicator-definitions';

const base = { name: 'SST en', task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ path: '/m/llama.gguf' }] };

function ok(input: unknown): StudyConfig {
  const r = parseStudyConfig(input);
  if (!r.ok) throw new Error(`expected valid, got ${JSON.stringify(r.errors)}`);
  return r.config;
}
function errors(input: unknown) {
  const r = parseStudyConfig(input);
  if (r.ok) throw new Error('expected invalid');
  return r.errors;
}
const withField = (patch: Record<string, unknown>) => ({ ...base, ...patch });

describe('study config: valid configurations and defaults', () => {
  it('fills every default of a minimal config (the paper protocol)', () => {
    expect(ok(base)).toEqual({
      name: 'SST en',
      task: { kind: 'sentiment', labels: ['positive', 'negative'] },
      language: 'en',
      dataset: { id: 1 },
      models: [{ path: '/m/llama.gguf', mode: 'paper', filler: '_' }],
      seeds: [28, 79, 96],
      explanations: [
        { method: 'human' },
        { method: 'self' },
        { method: 'lrp-cp', gate: 'half' },
        { method: 'lrp-contrast', gate: 'half', contrast: 'other' },
        { method: 'random' },
      ],
      binarisation: { method: 'top-k-human' },
      selfExplanation: { k: 'human', extractive: true, matching: 'robust', occurrences: 'first' },
      onlyCorrect: true,
      metrics: ['accuracy', 'invalid-rate', 'kappa', 'f1', 'recall', 'prob-drop'],
      limits: { maxContextTokens: 3000, maxNewTokens: 100, threads: 2 },
    });
  });

  it('is idempotent: a parsed config parses to itself (what the store keeps)', () => {
    const once = ok(base);
    expect(ok(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it('gives each task kind its default labels; custom labels are kept', () => {
    // the indicator is stored by its name (5 is the ILO's number of physical and sexual violence), and a
    // forced-labour task records the definitions text it uses: the built-in one when it names none
    expect(ok(withField({ task: { kind: 'forced-labour', indicator: 5 } })).task).toEqual({
      kind: 'forced-labour', labels: ['yes', 'no'], indicator: 'Physical and sexual violence', definitions: builtinDefinitions('ilo-indicators'),
    });
    expect(ok(withField({ task: { kind: 'claim-verification' } })).task.labels).toEqual(DEFAULT_LABELS['claim-verification']);
    expect(ok(withField({ task: { kind: 'custom', labels: ['spam', 'ham', 'eggs'] } })).task).toEqual({ kind: 'custom', labels: ['spam', 'ham', 'eggs'] });
    expect(ok(withField({ task: { kind: 'sentiment', labels: ['positiv', 'negativ'] }, language: 'da' })).task.labels).toEqual(['positiv', 'negativ']);
  });

  it('accepts a full config with every option', () => {
    const c = ok({
      ...base,
      description: 'Danish mSST, two models',
      language: 'da',
      dataset: { builtin: 'msst-da' },
      models: [
        { path: '/m/mistral.gguf', mode: 'constrained', filler: 'unk' },
        { id: 4, mode: 'scoring', filler: '<pad>' },
      ],
      prompts: { turn1: '{text}\n\nIs it (a) or (b)? {options}', turn2: 'Return at most {k} words as {"rationales": [...]}' },
      seeds: [1, 2],
      explanations: ['self', { method: 'lrp-cp', gate: 'detach' }, { method: 'lrp-contrast', contrast: 'strongest' }, 'lrp-attn', 'occlusion'],
      binarisation: { method: 'top-p', p: 0.2 },
      selfExplanation: { k: 5, extractive: false, matching: 'paper', occurrences: 'all' },
      onlyCorrect: false,
      metrics: ['kappa', 'auprc', 'aopc-comprehensiveness'],
      // threads: at most twice the machine's CPUs (2 is valid on any machine)
      limits: { maxExamples: 50, maxContextTokens: 4096, maxNewTokens: 64, threads: 2 },
    });
    expect(c.models[1]).toEqual({ id: 4, mode: 'scoring', filler: '<pad>' });
    expect(c.explanations).toEqual([
      { method: 'self' },
      { method: 'lrp-cp', gate: 'detach' },
      { method: 'lrp-contrast', gate: 'half', contrast: 'strongest' },
      { method: 'lrp-attn' },
      { method: 'occlusion' },
    ]);
    expect(c.binarisation).toEqual({ method: 'top-p', p: 0.2 });
    expect(c.limits).toEqual({ maxExamples: 50, maxContextTokens: 4096, maxNewTokens: 64, threads: 2 });
    expect(ok(withField({ binarisation: { method: 'fixed-k', k: 3 } })).binarisation).toEqual({ method: 'fixed-k', k: 3 });
    expect(ok(withField({ binarisation: 'one-over-n' })).binarisation).toEqual({ method: 'one-over-n' });
  });

  it('keeps forced-labour definitions text (not a file path) and a turn-2 {label} placeholder', () => {
    // Definitions are stored as their text: a file is read where it is chosen (study file, --definitions,
    // the GUI's file handle), so a configuration never makes anything read a path (see tests/api/path-audit).
    const defs = builtinDefinitions('ilo-indicators')!;
    const text = { source: 'file', name: 'mine.json', indicators: defs.indicators.map(({ label, definition }) => ({ label, definition: `${definition} (mine)` })) };
    const c = ok(withField({ task: { kind: 'forced-labour', indicator: 'excessive OVERTIME', definitions: text }, prompts: { turn2: 'Up to {k} words for "{label}"' } }));
    expect(c.task.indicator).toBe('Excessive overtime');
    expect(c.task.definitions).toMatchObject({ source: 'file', name: 'mine.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(c.task.definitions!.indicators[10]).toEqual({ number: 11, label: 'Excessive overtime', definition: `${defs.indicators[10].definition} (mine)` });
    expect(c.task.definitions!.sha256).not.toBe(defs.sha256);
    expect(c.prompts).toEqual({ turn2: 'Up to {k} words for "{label}"' });
    // the built-in by name is the same as no definitions at all
    expect(ok(withField({ task: { kind: 'forced-labour', indicator: 11, definitions: 'ilo-indicators' } })).task).toEqual(ok(withField({ task: { kind: 'forced-labour', indicator: 'Excessive overtime' } })).task);
    // a stored config parses to itself; a changed text under the old hash is refused
    expect(ok(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const edited = JSON.parse(JSON.stringify(c));
    edited.task.definitions.indicators[0].definition = 'changed';
    expect(errors(edited)).toEqual([{ path: 'task.definitions.sha256', message: 'does not match the definitions text (changed after it was recorded?); leave it out to record the text as it is now' }]);
  });

  it('does not require {k} in turn 2 when self-explanations are free-length', () => {
    expect(ok(withField({ prompts: { turn2: 'Which words?' }, selfExplanation: { k: 'free' } })).prompts).toEqual({ turn2: 'Which words?' });
  });
});

describe('study config: invalid fields are named with the problem', () => {
  it.each<[string, unknown, { path: string; message: string }[]]>([
    ['not an object', 42, [{ path: '(config)', message: 'expected object, got number 42' }]],
    ['missing name', { ...base, name: undefined }, [{ path: 'name', message: 'required (expected string)' }]],
    ['empty name', withField({ name: '  ' }), [{ path: 'name', message: 'must not be blank, got the string "  "' }]],
    ['unknown top-level field', withField({ seed: 28 }), [{ path: 'seed', message: 'unknown field' }]],
    ['unknown nested field', withField({ limits: { threads: 2, gpu: true } }), [{ path: 'limits.gpu', message: 'unknown field' }]],
    ['bad task kind', withField({ task: { kind: 'topic' } }), [{ path: 'task.kind', message: 'expected one of sentiment|forced-labour|claim-verification|custom, got the string "topic"' }]],
    ['custom without labels', withField({ task: { kind: 'custom' } }), [{ path: 'task.labels', message: 'required for a custom task (at least 2 labels)' }]],
    ['one label', withField({ task: { kind: 'custom', labels: ['x'] } }), [{ path: 'task.labels', message: 'must have at least 2 items, got a list of 1 item' }]],
    ['duplicate labels', withField({ task: { kind: 'custom', labels: ['x', 'y', 'x'] } }), [{ path: 'task.labels[2]', message: 'duplicate label "x"' }]],
    ['forced-labour without indicator', withField({ task: { kind: 'forced-labour' } }), [{ path: 'task.indicator', message: 'required for forced-labour: an ILO indicator by name or number (1 Abuse of vulnerability, 2 Deception, 3 Restriction of movement, 4 Isolation, 5 Physical and sexual violence, 6 Intimidation and threats, 7 Retention of identity documents, 8 Withholding of wages, 9 Debt bondage, 10 Abusive working and living conditions, 11 Excessive overtime)' }]],
    ['indicator by an unknown name', withField({ task: { kind: 'forced-labour', indicator: 'Forced overtime' } }), [{ path: 'task.indicator', message: '"Forced overtime" is not an ILO indicator; give its name or ILO number (1 Abuse of vulnerability, 2 Deception, 3 Restriction of movement, 4 Isolation, 5 Physical and sexual violence, 6 Intimidation and threats, 7 Retention of identity documents, 8 Withholding of wages, 9 Debt bondage, 10 Abusive working and living conditions, 11 Excessive overtime)' }]],
    ['indicator 0', withField({ task: { kind: 'forced-labour', indicator: 0 } }), [{ path: 'task.indicator', message: 'must be at least 1, got number 0' }]],
    ['indicator 12', withField({ task: { kind: 'forced-labour', indicator: 12 } }), [{ path: 'task.indicator', message: 'must be at most 11, got number 12' }]],
    ['indicator on sentiment', withField({ task: { kind: 'sentiment', indicator: 1 } }), [{ path: 'task.indicator', message: 'only allowed for forced-labour, not sentiment' }]],
    ['language name instead of code', withField({ language: 'Danish' }), [{ path: 'language', message: 'expected an ISO 639 code such as en, da, it, got the string "Danish"' }]],
    ['dataset with both', withField({ dataset: { id: 1, builtin: 'msst-en' } }), [{ path: 'dataset', message: 'give exactly one of "id" (a stored dataset) or "builtin" (a built-in dataset name)' }]],
    ['dataset id 0', withField({ dataset: { id: 0 } }), [{ path: 'dataset.id', message: 'must be greater than 0, got number 0' }]],
    ['no models', withField({ models: [] }), [{ path: 'models', message: 'must have at least 1 item, got a list of 0 items' }]],
    ['bad model mode', withField({ models: [{ path: '/m', mode: 'fast' }] }), [{ path: 'models[0].mode', message: 'expected one of paper|constrained|scoring, got the string "fast"' }]],
    ['model without path or id', withField({ models: [{ path: '/a' }, { mode: 'paper' }] }), [{ path: 'models[1]', message: 'give exactly one of "path" (a GGUF file) or "id" (a registered model)' }]],
    ['empty filler', withField({ models: [{ path: '/m', filler: '' }] }), [{ path: 'models[0].filler', message: 'must not be empty, got the string ""' }]],
    ['turn 1 without {options}', withField({ prompts: { turn1: 'Review: {text}' } }), [{ path: 'prompts.turn1', message: 'must contain the placeholder {options}' }]],
    ['unknown placeholder', withField({ prompts: { turn1: '{text} {options} {label}' } }), [{ path: 'prompts.turn1', message: 'unknown placeholder {label}; allowed: {text} {options}' }]],
    ['{k} in turn 1', withField({ prompts: { turn1: 'At most {k}: {text} {options}' } }), [{ path: 'prompts.turn1', message: 'unknown placeholder {k}; allowed: {text} {options}' }]],
    ['text twice in turn 1', withField({ prompts: { turn1: '{text} {options} again: {text}' } }), [{ path: 'prompts.turn1', message: 'must contain the placeholder {text} once, found 2' }]],
    ['unknown placeholder in turn 2', withField({ prompts: { turn2: '{k} words for {class}' } }), [{ path: 'prompts.turn2', message: 'unknown placeholder {class}; allowed: {text} {options} {k} {label}' }]],
    ['{k} in turn 2 with free k', withField({ prompts: { turn2: 'At most {k} words' }, selfExplanation: { k: 'free' } }), [{ path: 'prompts.turn2', message: 'has {k}, but selfExplanation.k is "free": there is no number to fill in' }]],
    ['definitions on sentiment', withField({ task: { kind: 'sentiment', definitions: 'ilo-indicators' } }), [{ path: 'task.definitions', message: 'only allowed for forced-labour, not sentiment' }]],
    // a string is a built-in name, never a path to read
    ['definitions as a file path', withField({ task: { kind: 'forced-labour', indicator: 1, definitions: 'defs.json' } }), [{ path: 'task.definitions', message: '"defs.json" is not built-in definitions (built-in: ilo-indicators); a definitions file is read where it is chosen (a study file or --definitions on the command line, the study form\'s file choice in the app), never from a path in a configuration' }]],
    ['blank definitions', withField({ task: { kind: 'forced-labour', indicator: 1, definitions: '  ' } }), [{ path: 'task.definitions', message: '"  " is not built-in definitions (built-in: ilo-indicators); a definitions file is read where it is chosen (a study file or --definitions on the command line, the study form\'s file choice in the app), never from a path in a configuration' }]],
    ['definitions not a name or text', withField({ task: { kind: 'forced-labour', indicator: 1, definitions: 3 } }), [{ path: 'task.definitions', message: 'expected a built-in definitions name (ilo-indicators) or the definitions text {source, name, indicators}, got number 3' }]],
    ['definitions text with ten indicators and an unknown field', withField({ task: { kind: 'forced-labour', indicator: 1, definitions: { source: 'file', name: 'd.json', path: '/etc/passwd', indicators: builtinDefinitions('ilo-indicators')!.indicators.slice(1) } } }),
      [{ path: 'task.definitions.path', message: 'unknown field' }, { path: 'task.definitions.indicators', message: 'missing Abuse of vulnerability (all 11 ILO indicators are needed)' }]],
    ['indicatorDefinitions inside task', withField({ task: { kind: 'forced-labour', indicator: 1, indicatorDefinitions: 'd.json' } }), [{ path: 'task.indicatorDefinitions', message: 'unknown field' }]],
    ['turn 2 without {k}', withField({ prompts: { turn2: 'Give words' } }), [{ path: 'prompts.turn2', message: 'must contain the placeholder {k} (selfExplanation.k is "human")' }]],
    ['no seeds', withField({ seeds: [] }), [{ path: 'seeds', message: 'must have at least 1 item, got a list of 0 items' }]],
    ['fractional seed', withField({ seeds: [28, 7.5] }), [{ path: 'seeds[1]', message: 'expected an integer, got number 7.5' }]],
    ['duplicate seed', withField({ seeds: [28, 28] }), [{ path: 'seeds[1]', message: 'duplicate seed 28' }]],
    ['unknown explanation', withField({ explanations: ['self', 'lrp'] }), [{ path: 'explanations[1].method', message: 'expected one of human|self|lrp-cp|lrp-attn|lrp-contrast|occlusion|random, got the string "lrp"' }]],
    ['gate on a non-LRP method', withField({ explanations: [{ method: 'occlusion', gate: 'half' }] }), [{ path: 'explanations[0].gate', message: 'only for lrp-cp and lrp-contrast, not occlusion' }]],
    ['bad gate', withField({ explanations: [{ method: 'lrp-cp', gate: 'frozen' }] }), [{ path: 'explanations[0].gate', message: 'expected one of half|detach, got the string "frozen"' }]],
    ['contrast on lrp-cp', withField({ explanations: [{ method: 'lrp-cp', contrast: 'other' }] }), [{ path: 'explanations[0].contrast', message: 'only for lrp-contrast, not lrp-cp' }]],
    ['fixed-k without k', withField({ binarisation: 'fixed-k' }), [{ path: 'binarisation.k', message: 'required for fixed-k' }]],
    ['top-p out of range', withField({ binarisation: { method: 'top-p', p: 1.5 } }), [{ path: 'binarisation.p', message: 'must be at most 1, got number 1.5' }]],
    ['k on top-p', withField({ binarisation: { method: 'top-p', p: 0.5, k: 3 } }), [{ path: 'binarisation.k', message: 'only for fixed-k, not top-p' }]],
    ['bad binarisation', withField({ binarisation: 'median' }), [{ path: 'binarisation.method', message: 'expected one of top-k-human|fixed-k|top-p|one-over-n, got the string "median"' }]],
    ['bad self-explanation k', withField({ selfExplanation: { k: 'all' } }), [{ path: 'selfExplanation.k', message: 'expected "human", "free" or a positive integer, got the string "all"' }]],
    ['bad matching', withField({ selfExplanation: { matching: 'fuzzy' } }), [{ path: 'selfExplanation.matching', message: 'expected one of paper|robust, got the string "fuzzy"' }]],
    ['extractive not a boolean', withField({ selfExplanation: { extractive: 'yes' } }), [{ path: 'selfExplanation.extractive', message: 'expected boolean, got the string "yes"' }]],
    ['onlyCorrect not a boolean', withField({ onlyCorrect: 1 }), [{ path: 'onlyCorrect', message: 'expected boolean, got number 1' }]],
    ['unknown metric', withField({ metrics: ['kappa', 'bleu'] }), [{ path: 'metrics[1]', message: expect.stringMatching(/^expected one of accuracy\|.*, got the string "bleu"$/) as unknown as string }]],
    ['threads 0', withField({ limits: { threads: 0 } }), [{ path: 'limits.threads', message: 'must be at least 1, got number 0' }]],
    ['maxNewTokens as string', withField({ limits: { maxNewTokens: '100' } }), [{ path: 'limits.maxNewTokens', message: 'expected number, got the string "100"' }]],
  ])('%s', (_name, input, expected) => {
    expect(errors(input)).toEqual(expected);
  });

  it('reports several problems at once', () => {
    const errs = errors({ name: 'x', task: { kind: 'custom' }, dataset: {}, models: [{ path: '/m', mode: 'x' }] });
    expect(errs.map((e) => e.path)).toEqual(['task.labels', 'dataset', 'models[0].mode']);
  });
});

describe('study config: task placeholders in prompt templates', () => {
  it('forced-labour takes {indicator} and {definition}, claim-verification {claim}, in both turns and any number of times', () => {
    const fl = ok(withField({
      task: { kind: 'forced-labour', indicator: 5 },
      prompts: { turn1: '{indicator}: {definition}\n{text}\n{options}\n{indicator}?', turn2: 'Up to {k} parts for {indicator} ({definition}), {label}' },
    }));
    expect(fl.prompts).toEqual({ turn1: '{indicator}: {definition}\n{text}\n{options}\n{indicator}?', turn2: 'Up to {k} parts for {indicator} ({definition}), {label}' });
    const cl = ok(withField({ task: { kind: 'claim-verification' }, prompts: { turn1: 'Claim {claim}; evidence {text}; {options}; {claim}', turn2: '{k} words on {claim}' } }));
    expect(cl.prompts?.turn2).toBe('{k} words on {claim}');
  });

  it.each<[string, unknown, { path: string; message: string }[]]>([
    ['{claim} in a sentiment study', withField({ prompts: { turn1: 'Claim {claim}: {text} {options}' } }),
      [{ path: 'prompts.turn1', message: 'placeholder {claim} is not available for task sentiment (only for claim-verification); allowed: {text} {options}' }]],
    ['{indicator} in a claim study, turn 2', withField({ task: { kind: 'claim-verification' }, prompts: { turn2: '{k} words for {indicator}' } }),
      [{ path: 'prompts.turn2', message: 'placeholder {indicator} is not available for task claim-verification (only for forced-labour); allowed: {text} {options} {k} {label} {claim}' }]],
    ['{definition} in a custom study', withField({ task: { kind: 'custom', labels: ['a', 'b'] }, prompts: { turn1: '{definition} {text} {options}' } }),
      [{ path: 'prompts.turn1', message: 'placeholder {definition} is not available for task custom (only for forced-labour); allowed: {text} {options}' }]],
    ['{claim} in a forced-labour study (named once however often used)', withField({ task: { kind: 'forced-labour', indicator: 2 }, prompts: { turn1: '{claim} {text} {options} {claim}' } }),
      [{ path: 'prompts.turn1', message: 'placeholder {claim} is not available for task forced-labour (only for claim-verification); allowed: {text} {options} {indicator} {definition}' }]],
    ['unknown placeholder in a forced-labour study lists its task placeholders', withField({ task: { kind: 'forced-labour', indicator: 2 }, prompts: { turn2: '{k} {evidence}' } }),
      [{ path: 'prompts.turn2', message: 'unknown placeholder {evidence}; allowed: {text} {options} {k} {label} {indicator} {definition}' }]],
  ])('%s', (_name, input, expected) => {
    expect(errors(input)).toEqual(expected);
  });

  it('is reported together with problems elsewhere in the config', () => {
    const errs = errors(withField({ models: [{ path: '/m', mode: 'fast' }], prompts: { turn1: '{claim} {text} {options}' } }));
    expect(errs.map((e) => e.path)).toEqual(['models[0].mode', 'prompts.turn1']);
    expect(errs[1].message).toContain('placeholder {claim} is not available for task sentiment');
  });
});
