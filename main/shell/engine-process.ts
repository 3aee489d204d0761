import type { ChildProcess, ForkOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { utilityProcess } from 'electron';

/**
 * The engine host as an Electron utilityProcess, shaped like the ChildProcess that Engine
 * (main/api/engine.ts) drives. child_process.fork would start this app's own binary with
 * ELECTRON_RUN_AS_NODE, which the packaged app's RunAsNode fuse turns off (electron-builder.yml);
 * a utility process is a Node child that needs no such switch. The host talks through
 * process.parentPort (main/api/engine-host.ts).
 */
export function forkUtilityProcess(entry: string, args: string[], options: ForkOptions): ChildProcess {
  const child = utilityProcess.fork(entry, args, {
    serviceName: 'Rationale Workbench engine',
    stdio: 'inherit',
    execArgv: options.execArgv,
  });
  const proc = new EventEmitter() as EventEmitter & { connected: boolean; pid?: number; send: (m: unknown) => boolean; kill: () => boolean };
  proc.connected = true;
  child.on('spawn', () => (proc.pid = child.pid));
  child.on('message', (m: unknown) => proc.emit('message', m));
  child.on('exit', (code: number) => {
    proc.connected = false;
    proc.emit('exit', code, null);
  });
  proc.send = (m: unknown) => {
    child.postMessage(m);
    return true;
  };
  proc.kill = () => child.kill();
  return proc as unknown as ChildProcess;
}
