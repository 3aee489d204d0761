/**
 * Messages that tell the user what to do, worded for where the user is: the command line names its flags,
 * the app names the field of its form. One builder per message, so both say the same thing.
 */
export type UserPlace = 'cli' | 'gui';

/** How the user gives a dataset's language where they are. */
function languageOption(where: UserPlace): string {
  return where === 'gui' ? 'fill in the Language field of the import form' : 'pass --language';
}

/** A row without a language, when none was given for the whole file. */
export function noLanguageMessage(where: UserPlace): string {
  return `no language: add a "language" column or ${languageOption(where)}`;
}

/** A language option that is not a language code. */
export function badLanguageMessage(language: string, where: UserPlace): string {
  return where === 'gui'
    ? `the Language field "${language}" is not a language code like en, da or it`
    : `--language "${language}" is not a language code like en, da or it`;
}
