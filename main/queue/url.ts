/**
 * The queue's address: redis://[user:password@]host[:port][/db] or rediss://… (TLS), as Redis and Valkey
 * offer. The password goes to the connection only: everything printed or stored names the queue by
 * displayQueueUrl(), which replaces it with ***.
 */
import type { RedisOptions } from 'bullmq';

export interface QueueAddress {
  /** ioredis options (BullMQ's connection). */
  connection: RedisOptions;
  /** The URL without its password, for messages and the store. */
  display: string;
}

export class QueueUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUrlError';
  }
}

/** The URL with any password replaced by *** (a URL that does not parse is not echoed at all). */
export function displayQueueUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(a queue URL that does not parse)';
  }
  if (u.password) u.password = '***';
  return u.toString();
}

/** `field` names the input in messages: the CLI's flag, or the API's field (the GUI's queue address). */
export function parseQueueUrl(url: string, field = '--queue'): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(`${field}: expected redis://[user:password@]host[:port][/db] or rediss://… (TLS), got something that is not a URL`);
  }
  const display = displayQueueUrl(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueUrlError(`${field} ${display}: expected a redis:// or rediss:// (TLS) URL`);
  if (!u.hostname) throw new QueueUrlError(`${field} ${display}: no host`);
  const port = u.port ? Number(u.port) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QueueUrlError(`${field} ${display}: port ${u.port} is not a port number`);
  const dbPart = u.pathname.replace(/^\//, '');
  if (dbPart && !/^\d+$/.test(dbPart)) throw new QueueUrlError(`${field} ${display}: the path must be a database number, got "${dbPart}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const connection: RedisOptions = {
    host,
    port,
    db: dbPart ? Number(dbPart) : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    // TLS with the system's certificate authorities, the host name checked (rediss://)
    ...(u.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
    // BullMQ's workers block on the connection: requests must wait for a reconnection, not fail
    maxRetriesPerRequest: null,
  };
  return { connection, display };
}
