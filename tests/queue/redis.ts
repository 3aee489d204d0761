/**
 * A real redis-server for the queue tests: on 127.0.0.1, a free port, its own temp dir, no persistence,
 * a password (so the tests also prove the password is never printed). Skipped, with the reason printed,
 * only where redis-server is not installed (scripts/setup.sh installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_PASSWORD = 'pw-Zq8-never-printed';

export function redisMissing(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = 'redis-server is not installed (scripts/setup.sh installs it: apt-get install redis-server): the queue tests are skipped';
    process.stderr.write(`${why}\n`);
    return why;
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  /** redis://:password@127.0.0.1:port */
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rw-redis-'));
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', REDIS_PASSWORD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    const ready = await new Promise<boolean>((resolve) => {
      const t = setInterval(() => {
        if (/Ready to accept connections/.test(out)) done(true);
      }, 25);
      const limit = setTimeout(() => done(false), 10_000);
      child.once('exit', () => done(false));
      function done(ok: boolean) {
        clearInterval(t);
        clearTimeout(limit);
        resolve(ok);
      }
    });
    if (ready) {
      return {
        port,
        url: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}`,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => {
              rmSync(dir, { recursive: true, force: true });
              resolve();
            });
            child.kill('SIGKILL');
          }),
      };
    }
    child.kill('SIGKILL');
    if (tries >= 3) throw new Error(`redis-server did not start: ${out.slice(-500)}`);
  }
}
