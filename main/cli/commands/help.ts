import { loadCommand } from '../registry';
import { parseFlags, type CliContext } from '../context';
import { defaultDbPath } from '../paths';

export const summary = 'list the commands, or show one: help [command]';
export const usage = 'help [command]';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional } = parseFlags(args, {});
  const names = positional.length > 0 ? positional : await ctx.commandNames();
  const commands = await Promise.all(names.map(async (name) => ({ name, ...(await loadCommand(name)) })));
  if (ctx.json) {
    ctx.out(JSON.stringify(commands.map((c) => ({ name: c.name, summary: c.summary, usage: c.usage ?? c.name }))));
    return 0;
  }
  if (positional.length === 0) {
    ctx.out('Rationale Workbench CLI');
    ctx.out('usage: npm run --silent cli -- [--db FILE] [--json] <command> [args]');
    ctx.out(`  --db FILE   database file (default: ${defaultDbPath()}; env RW_DB overrides)`);
    ctx.out('  --json      machine-readable output');
    ctx.out('commands:');
  }
  const width = Math.max(...commands.map((c) => c.name.length));
  for (const c of commands) {
    ctx.out(`  ${c.name.padEnd(width)}  ${c.summary}`);
    if (positional.length > 0 && c.usage) ctx.out(`  usage: ${c.usage}`);
  }
  return 0;
}
