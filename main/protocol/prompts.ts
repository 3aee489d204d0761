import type { Indicator } from './indicators';

/** Which part of the prompt a piece of text is; `template` and `answer` come from the chat rendering. */
export type Segment = 'template' | 'instruction' | 'text' | 'options' | 'answer';

export interface PromptPiece {
  segment: 'instruction' | 'text' | 'options';
  text: string;
}

/** One answer option of the multiple-choice question. */
export interface AnswerOption {
  /** The letter the model is asked to start with ("a", "b", ...). */
  letter: string;
  /** The class this option stands for (dataset label: "positive", "yes", "supports", ...). */
  label: string;
  /** The option line after "(a) ". */
  description: string;
  /** The word that names the class in a free answer and in the turn-2 request ("positiv", "yes"). */
  word: string;
  /** Phrases that name this option unambiguously in a free-text answer (matched case/accent-insensitively). */
  phrases: string[];
}

export type Language = 'en' | 'da' | 'it';

export type TaskSpec =
  | { task: 'sentiment'; language: Language }
  | { task: 'forced-labour'; language?: 'en'; indicator: Indicator }
  | { task: 'claim'; language?: 'en'; claim: string }
  | {
      task: 'custom';
      language: string;
      /** Text before the input, e.g. "Consider the following e-mail: ". */
      intro: string;
      /** The question line, e.g. "Is this e-mail spam?". */
      question?: string;
      options: Array<{ label: string; description: string; word?: string; phrases?: string[] }>;
      /** Turn-2 request; `{k}`, `{word}` are filled in. Default: the English words request. */
      explainRequest?: string;
    };

/** The rendered task for one text: turn-1 pieces, options, and the turn-2 request builder. */
export interface TaskPrompt {
  language: string;
  options: AnswerOption[];
  turn1: PromptPiece[];
  /** Turn-2 request for the predicted option; k = null asks without a maximum. */
  explainRequest(option: AnswerOption, k: number | null): string;
  /** Whether turn 2 asks for single words or for parts (spans) of the text. */
  explainUnit: 'words' | 'parts';
}

const LETTERS = 'abcdefghij';

interface Wording {
  intro: string;
  choose: string;
  answer: string;
  options: Array<Omit<AnswerOption, 'letter'>>;
  explain: (word: string, k: number | null) => string;
}

// The English wording is the paper's (annotation_request in its released responses). Danish and Italian
// are the workbench's own full translations, with the paper's label words.
const SENTIMENT: Record<Language, Wording> = {
  en: {
    intro: 'Consider the following movie review: ',
    choose: 'Choose one of the following options and start your answer with the respective letter: ',
    answer: 'Answer:',
    options: [
      { label: 'positive', word: 'positive', description: 'This review is overall rather positive', phrases: ['rather positive', 'overall positive'] },
      { label: 'negative', word: 'negative', description: 'This review is overall rather negative', phrases: ['rather negative', 'overall negative'] },
    ],
    explain: (word, k) =>
      `${k === null ? 'Return the individual words' : `Return a maximum of ${k} individual words`} from the text that show evidence for a ${word} movie review. Return them as a JSON list of objects, each with the field "rationales".`,
  },
  da: {
    intro: 'Betragt følgende filmanmeldelse: ',
    choose: 'Vælg en af følgende muligheder, og start dit svar med det tilsvarende bogstav: ',
    answer: 'Svar:',
    options: [
      { label: 'positive', word: 'positiv', description: 'Denne anmeldelse er samlet set overvejende positiv', phrases: ['overvejende positiv', 'samlet set positiv'] },
      { label: 'negative', word: 'negativ', description: 'Denne anmeldelse er samlet set overvejende negativ', phrases: ['overvejende negativ', 'samlet set negativ'] },
    ],
    explain: (word, k) =>
      `${k === null ? 'Returnér de enkelte ord' : `Returnér højst ${k} enkelte ord`} fra teksten, der viser tegn på en ${word} filmanmeldelse. Returnér dem som en JSON-liste af objekter, hver med feltet "rationales".`,
  },
  it: {
    intro: 'Considera la seguente recensione di un film: ',
    choose: 'Scegli una delle seguenti opzioni e inizia la tua risposta con la lettera corrispondente: ',
    answer: 'Risposta:',
    options: [
      { label: 'positive', word: 'positiva', description: 'Questa recensione è nel complesso piuttosto positiva', phrases: ['piuttosto positiva', 'complesso positiva'] },
      { label: 'negative', word: 'negativa', description: 'Questa recensione è nel complesso piuttosto negativa', phrases: ['piuttosto negativa', 'complesso negativa'] },
    ],
    explain: (word, k) =>
      `${k === null ? 'Restituisci le singole parole' : `Restituisci al massimo ${k} singole parole`} del testo che mostrano evidenza di una recensione ${word}. Restituiscile come una lista JSON di oggetti, ciascuno con il campo "rationales".`,
  },
};

function lettered(options: Array<Omit<AnswerOption, 'letter'>>): AnswerOption[] {
  if (options.length < 2 || options.length > LETTERS.length) throw new Error(`a task needs 2-${LETTERS.length} options, got ${options.length}`);
  return options.map((o, i) => ({ ...o, letter: LETTERS[i] }));
}

function optionBlock(options: AnswerOption[]): string {
  return options.map((o) => `(${o.letter}) ${o.description}`).join(' \n');
}

function multipleChoice(intro: string, text: string, between: string, options: AnswerOption[], answer: string): PromptPiece[] {
  return [
    { segment: 'instruction', text: intro },
    { segment: 'text', text },
    { segment: 'instruction', text: ` \n${between}\n` },
    { segment: 'options', text: optionBlock(options) },
    { segment: 'instruction', text: ` \n${answer}` },
  ];
}

/**
 * A study's own wording (study config `prompts`). Turn 1: {text} and {options} exactly once each, the rest
 * is instruction; turn 2: {k} (the maximum number of items; empty when free), {label} (the predicted
 * option's word), and {text}/{options} repeated if wanted. Both turns may also use the task's own
 * placeholders (TASK_PLACEHOLDERS: {indicator} and {definition} for forced-labour, {claim} for claim),
 * any number of times, filled as instruction text. Only {identifier} is a placeholder, so JSON in a
 * template ({"rationales": [...]}) is kept as written.
 */
export interface PromptTemplates {
  turn1?: string;
  turn2?: string;
}

export const TURN1_PLACEHOLDERS = ['text', 'options'] as const;
export const TURN2_PLACEHOLDERS = ['text', 'options', 'k', 'label'] as const;
/** Placeholders a task adds to both turns (instruction text, any number of times). */
export const TASK_PLACEHOLDERS: Readonly<Record<TaskSpec['task'], readonly string[]>> = {
  sentiment: [],
  'forced-labour': ['indicator', 'definition'],
  claim: ['claim'],
  custom: [],
};
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every placeholder a template of `task` may use in turn 1 or turn 2, in the order error messages list them. */
export function templatePlaceholders(task: TaskSpec['task'], turn: 1 | 2): string[] {
  return [...(turn === 1 ? TURN1_PLACEHOLDERS : TURN2_PLACEHOLDERS), ...TASK_PLACEHOLDERS[task]];
}

/**
 * Why `{name}` cannot be used in a turn-`turn` template of `task`, or null when it can. A placeholder that
 * belongs to another task says so (and which); any other is unknown. `taskNames` renames tasks in the
 * message (the study config calls the claim task "claim-verification").
 */
export function placeholderProblem(name: string, task: TaskSpec['task'], turn: 1 | 2, taskNames: Partial<Record<TaskSpec['task'], string>> = {}): string | null {
  const allowed = templatePlaceholders(task, turn);
  if (allowed.includes(name)) return null;
  const list = `allowed: ${allowed.map((a) => `{${a}}`).join(' ')}`;
  const owners = (Object.keys(TASK_PLACEHOLDERS) as TaskSpec['task'][]).filter((t) => TASK_PLACEHOLDERS[t].includes(name));
  if (owners.length === 0) return `unknown placeholder {${name}}; ${list}`;
  const named = (t: TaskSpec['task']) => taskNames[t] ?? t;
  return `placeholder {${name}} is not available for task ${named(task)} (only for ${owners.map(named).join(', ')}); ${list}`;
}

/**
 * The task's own placeholder values. A forced-labour {definition} is the indicator's definition text from
 * the definitions file the task uses; an indicator without one (no file loaded) cannot fill it, and that is
 * an error rather than an empty string in the prompt.
 */
function taskValues(spec: TaskSpec | undefined): Record<string, () => string> {
  if (spec?.task === 'forced-labour') {
    const ind = spec.indicator;
    return {
      indicator: () => ind.label,
      definition: () => {
        if (!ind.definition.trim()) throw new Error(`prompt template: {definition}: indicator ${ind.number} (${ind.label}) has no definition text (no indicator definitions file loaded)`);
        return ind.definition;
      },
    };
  }
  if (spec?.task === 'claim') return { claim: () => spec.claim };
  return {};
}

/** Refuse a template with a placeholder the task does not provide (before any model runs). */
function checkPlaceholders(template: string, turn: 1 | 2, spec: TaskSpec | undefined): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const problem = spec ? placeholderProblem(m[1], spec.task, turn) : basePlaceholderProblem(m[1], turn);
    if (problem) throw new Error(`prompt template turn ${turn}${spec ? ` (task ${spec.task})` : ''}: ${problem}`);
  }
}

/** Without a task spec only the base placeholders are known. */
function basePlaceholderProblem(name: string, turn: 1 | 2): string | null {
  const allowed: readonly string[] = turn === 1 ? TURN1_PLACEHOLDERS : TURN2_PLACEHOLDERS;
  return allowed.includes(name) ? null : `unknown placeholder {${name}}; allowed: ${allowed.map((a) => `{${a}}`).join(' ')}`;
}

/**
 * Turn-1 pieces from a template: literal parts are instructions, {text} the text, {options} the option
 * block, and the task's placeholders (given `spec`) instruction text merged with the literal parts around them.
 */
export function templateTurn1(template: string, text: string, options: AnswerOption[], spec?: TaskSpec): PromptPiece[] {
  checkPlaceholders(template, 1, spec);
  const values = taskValues(spec);
  const pieces: PromptPiece[] = [];
  const instruction = (t: string) => {
    if (t === '') return;
    const last = pieces[pieces.length - 1];
    if (last?.segment === 'instruction') last.text += t;
    else pieces.push({ segment: 'instruction', text: t });
  };
  const seen = { text: 0, options: 0 };
  let at = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1];
    instruction(template.slice(at, m.index));
    if (name === 'text' || name === 'options') {
      seen[name]++;
      pieces.push(name === 'text' ? { segment: 'text', text } : { segment: 'options', text: optionBlock(options) });
    } else instruction(values[name]());
    at = m.index! + m[0].length;
  }
  instruction(template.slice(at));
  // one text segment: token alignment, masking and relevance all assume the text is shown once
  for (const name of TURN1_PLACEHOLDERS) {
    if (seen[name] !== 1) throw new Error(`prompt template turn 1: must contain {${name}} exactly once, found ${seen[name]}`);
  }
  return pieces;
}

/** The turn-2 request from a template; `spec` supplies the task's placeholders. */
export function templateTurn2(template: string, values: { text: string; options: AnswerOption[]; k: number | null; label: string; spec?: TaskSpec }): string {
  checkPlaceholders(template, 2, values.spec);
  const task = taskValues(values.spec);
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    switch (name) {
      case 'text':
        return values.text;
      case 'options':
        return optionBlock(values.options);
      case 'k':
        return values.k === null ? '' : String(values.k);
      case 'label':
        return values.label;
      default:
        return task[name]();
    }
  });
}

/**
 * Build the prompt of `spec` for `text`: the built-in wording of the task and language, or the given
 * templates in its place (the options, their letters and answer parsing stay the task's). A template is
 * checked here, so a placeholder the task does not provide fails before any model runs.
 */
export function buildTaskPrompt(spec: TaskSpec, text: string, templates?: PromptTemplates): TaskPrompt {
  const base = builtinPrompt(spec, text);
  if (!templates?.turn1 && !templates?.turn2) return base;
  const { turn1, turn2 } = templates;
  if (turn2) {
    checkPlaceholders(turn2, 2, spec);
    // a {definition} that cannot be filled is reported now, not after turn 1 has run
    if (/\{definition\}/.test(turn2)) taskValues(spec).definition?.();
  }
  return {
    ...base,
    ...(turn1 ? { turn1: templateTurn1(turn1, text, base.options, spec) } : {}),
    ...(turn2 ? { explainRequest: (o: AnswerOption, k: number | null) => templateTurn2(turn2, { text, options: base.options, k, label: o.word, spec }) } : {}),
  };
}

function builtinPrompt(spec: TaskSpec, text: string): TaskPrompt {
  switch (spec.task) {
    case 'sentiment': {
      const w = SENTIMENT[spec.language];
      if (!w) throw new Error(`sentiment prompts exist for en, da, it; not "${spec.language}"`);
      const options = lettered(w.options);
      return {
        language: spec.language,
        options,
        turn1: multipleChoice(w.intro, text, w.choose, options, w.answer),
        explainRequest: (o, k) => w.explain(o.word, k),
        explainUnit: 'words',
      };
    }
    case 'forced-labour': {
      const ind = spec.indicator;
      const options = lettered([
        { label: 'yes', word: 'yes', description: 'Yes, it contains evidence', phrases: ['contains evidence', 'does contain evidence'] },
        { label: 'no', word: 'no', description: 'No, it does not contain evidence', phrases: ['does not contain evidence', 'no evidence'] },
      ]);
      return {
        language: 'en',
        options,
        turn1: multipleChoice(
          'Consider the following news article: ',
          text,
          `Does the article contain evidence of the forced labour indicator "${ind.label}"? Definition: ${ind.definition} \nChoose one of the following options and start your answer with the respective letter: `,
          options,
          'Answer:',
        ),
        explainRequest: (_o, k) =>
          `${k === null ? 'Return the parts' : `Return a maximum of ${k} parts`} of the text that show evidence for the indicator "${ind.label}". Return them as a JSON list of objects, each with the field "rationales".`,
        explainUnit: 'parts',
      };
    }
    case 'claim': {
      const options = lettered([
        { label: 'supports', word: 'supports', description: 'The evidence supports the claim', phrases: ['supports the claim'] },
        { label: 'refutes', word: 'refutes', description: 'The evidence refutes the claim', phrases: ['refutes the claim'] },
        { label: 'not-enough-info', word: 'not enough information', description: 'There is not enough information', phrases: ['not enough information'] },
      ]);
      return {
        language: 'en',
        options,
        turn1: [
          { segment: 'instruction', text: `Consider the following claim: ${spec.claim} \nand the following evidence: ` },
          { segment: 'text', text },
          { segment: 'instruction', text: ' \nChoose one of the following options and start your answer with the respective letter: \n' },
          { segment: 'options', text: optionBlock(options) },
          { segment: 'instruction', text: ' \nAnswer:' },
        ],
        explainRequest: (o, k) =>
          `${k === null ? 'Return the individual words' : `Return a maximum of ${k} individual words`} from the evidence that show why it ${o.word === 'not enough information' ? 'gives not enough information on' : `${o.word}`} the claim. Return them as a JSON list of objects, each with the field "rationales".`,
        explainUnit: 'words',
      };
    }
    case 'custom': {
      const options = lettered(
        spec.options.map((o) => ({ label: o.label, description: o.description, word: o.word ?? o.label, phrases: o.phrases ?? [o.description] })),
      );
      const between = `${spec.question ? `${spec.question} ` : ''}Choose one of the following options and start your answer with the respective letter: `;
      const template = spec.explainRequest;
      return {
        language: spec.language,
        options,
        turn1: multipleChoice(spec.intro, text, between, options, 'Answer:'),
        explainRequest: (o, k) =>
          template
            ? template.replaceAll('{k}', k === null ? '' : String(k)).replaceAll('{word}', o.word)
            : SENTIMENT.en.explain(o.word, k).replace(' movie review', ''),
        explainUnit: 'words',
      };
    }
  }
}
