import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { checkThreads } from '../../models/session-threads';
import { CliUsageError, parseFlags, type CliContext } from '../context';

export const summary = 'compute example jobs of studies shared on a queue (BullMQ on Redis), with the models in --models-dir';
export const usage = 'worker --queue redis://[user:password@]HOST:PORT[/db] | rediss://… --models-dir DIR [--threads N]';

/**
 * A headless worker (main/queue/worker.ts): it takes example jobs for the models it has (matched by SHA-256
 * over the .gguf files in --models-dir, never by name), computes them with the local runner's pipeline and
 * sends the results back to the study's owner. It opens no database and no file named in a job.
 * Ctrl-C / SIGTERM: the example in hand is finished and returned, then the worker exits (0).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { queue: 'string', 'models-dir': 'string', threads: 'integer' });
  if (positional.length) throw new CliUsageError(`unexpected argument "${positional[0]}"; usage: ${usage}`);
  if (flags.queue === undefined) throw new CliUsageError(`missing --queue; usage: ${usage}`);
  if (flags['models-dir'] === undefined) throw new CliUsageError(`missing --models-dir (the folder of the worker's .gguf models); usage: ${usage}`);
  const dir = resolve(flags['models-dir'] as string);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliUsageError(`--models-dir ${dir} is not a folder`);
  if (flags.threads !== undefined) checkThreads(flags.threads as number, '--threads', (m) => new CliUsageError(m));
  const { parseQueueUrl, runWorker, QueueUrlError } = await import('../../queue');
  let address;
  try {
    address = parseQueueUrl(flags.queue as string);
  } catch (e) {
    throw e instanceof QueueUrlError ? new CliUsageError(e.message) : e;
  }
  const abort = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    ctx.err('stopping: the example in hand is finished and returned first (again to quit now)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runWorker({ address, modelsDir: dir, threads: flags.threads as number | undefined, signal: abort.signal, log: ctx.err });
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
