/**
 * Child process for write-retry.test.ts: holds the database's write lock on request, as a long import in
 * another process would. Reads lines "<ms>" on stdin: BEGIN IMMEDIATE, prints "locked", commits after ms,
 * prints "released". Usage: lock-holder.ts <db>
 */
import Database from 'better-sqlite3';
import { createInterface } from 'node:readline';

const db = new Database(process.argv[2]);
db.pragma('busy_timeout = 5000');
createInterface({ input: process.stdin }).on('line', (line) => {
  const ms = Number(line);
  db.exec('BEGIN IMMEDIATE');
  process.stdout.write('locked\n');
  setTimeout(() => {
    db.exec('COMMIT');
    process.stdout.write('released\n');
  }, ms);
});
