/**
 * `npm run web`: browser mode. Serves the built renderer (out/renderer) and the workbench API on
 * 127.0.0.1 with a fresh random token, and prints the address to open.
 *   --port N   (default: a free port)   --data-dir DIR   --db FILE
 */
import { startBrowserMode } from './web';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

startBrowserMode({ dataDir: arg('data-dir'), dbFile: arg('db'), port: arg('port') ? Number(arg('port')) : undefined })
  .then(({ stop }) => {
    const quit = () => void stop().then(() => process.exit(0));
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  })
  .catch((e: Error) => {
    console.error(`browser mode failed to start: ${e.message}`);
    process.exit(1);
  });
