import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CliUsageError, type CommandModule } from './context';

/**
 * Commands are the files main/cli/commands/<name>.ts, loaded by dynamic import: adding a command
 * means adding a file. (Kept apart from index.ts so commands such as `help` can use it without
 * importing the entry module, which is still evaluating.)
 */
export const COMMANDS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');
const NAME = /^[a-z][a-z0-9-]*$/;

export function listCommandNames(): string[] {
  return readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((n) => NAME.test(n))
    .sort();
}

export async function loadCommand(name: string): Promise<CommandModule> {
  const file = path.join(COMMANDS_DIR, `${name}.ts`);
  if (!NAME.test(name) || !existsSync(file)) {
    throw new CliUsageError(`unknown command "${name}" (commands: ${listCommandNames().join(', ')}; try "help")`);
  }
  const mod = (await import(pathToFileURL(file).href)) as Partial<CommandModule>;
  if (typeof mod.run !== 'function' || typeof mod.summary !== 'string') {
    throw new Error(`command module ${file} must export run(args, ctx) and summary`);
  }
  return mod as CommandModule;
}
