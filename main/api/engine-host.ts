/**
 * Entry of the engine child process. Heavy work (parsing a dataset file, hashing a multi-GB GGUF,
 * running models) happens here, never in the Electron main process or the HTTP server's event
 * loop, so the window never freezes. Messages: {id, job, args} in, {id, ok, value|error} out,
 * plus {event} messages for progress.
 */
import { jobs, type JobName } from './jobs';
import { toErrorData } from './to-error';

interface JobMessage {
  id: number;
  job: JobName;
  args: unknown;
}

/**
 * In the packaged Electron app the host is a utilityProcess (main/shell/engine-process.ts): messages
 * come and go through process.parentPort instead of the fork IPC channel.
 */
interface ParentPort {
  postMessage(m: unknown): void;
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const send = (m: unknown) => (parentPort ? parentPort.postMessage(m) : process.send?.(m));
const onMessage = (fn: (raw: unknown) => void) => (parentPort ? parentPort.on('message', (e) => fn(e.data)) : process.on('message', fn));

onMessage((raw) => {
  const msg = raw as JobMessage;
  const fn = jobs[msg.job] as ((args: unknown, emit: (e: unknown) => void) => Promise<unknown>) | undefined;
  if (!fn) {
    send({ id: msg.id, ok: false, error: { code: 'failed', message: `unknown engine job "${String(msg.job)}"` } });
    return;
  }
  fn(msg.args, (event) => send({ event }))
    .then((value) => send({ id: msg.id, ok: true, value }))
    .catch((e: unknown) => send({ id: msg.id, ok: false, error: toErrorData(e) }));
});

// Parent gone (window closed, server stopped): exit instead of lingering.
process.on('disconnect', () => process.exit(0));
send({ ready: true });
