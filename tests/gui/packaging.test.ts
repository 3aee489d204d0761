import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../api/helpers';

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  linux: { target: string[] };
  mac: { target: string[] };
  win: { target: string[] };
  electronVersion: string;
  electronFuses: Record<string, boolean>;
  extends?: string;
  directories: { output: string };
}

describe('electron-builder configuration', () => {
  const cfg = load(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    main: string;
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
  };

  it('targets AppImage, deb, dmg and nsis with the pinned Electron', () => {
    expect(cfg.linux.target).toEqual(['AppImage', 'deb']);
    expect(cfg.mac.target).toEqual(['dmg']);
    expect(cfg.win.target).toEqual(['nsis']);
    expect(cfg.electronVersion).toBe(pkg.devDependencies.electron);
    expect(pkg.scripts.dist).toContain('electron-builder --config electron-builder.yml');
  });

  it('unpacks the native addon and better-sqlite3 from the asar', () => {
    expect(cfg.asarUnpack).toContain('native/build/*.node');
    expect(cfg.asarUnpack).toContain('node_modules/better-sqlite3/**');
    expect(cfg.asarUnpack).toContain('node_modules/@node-llama-cpp/**');
  });

  it('ships what the app reads at run time relative to its root', () => {
    // package.json "main" is the built shell; studies, the report stylesheet and the addon are read from the app root.
    expect(pkg.main).toBe('out/main/index.js');
    for (const f of ['out/**', 'studies/**', 'resources/report/**', 'native/build/*.node']) expect(cfg.files).toContain(f);
    for (const p of ['studies/demo-sentiment-en.json', 'resources/report/report.css']) expect(existsSync(join(repoRoot, p))).toBe(true);
  });

  it('flips the Electron fuses: no RunAsNode, NODE_OPTIONS or --inspect; app only from an integrity-checked asar; encrypted cookies', () => {
    expect(cfg.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: true,
    });
    // With RunAsNode off, child_process.fork cannot start the engine host: the shell uses a utility process.
    const main = readFileSync(join(repoRoot, 'main/shell/main.ts'), 'utf8');
    expect(main).toMatch(/forkEngine: forkUtilityProcess/);
    expect(readFileSync(join(repoRoot, 'main/shell/engine-process.ts'), 'utf8')).toMatch(/utilityProcess\.fork\(/);
  });

  it('has a test-only build for Playwright\'s _electron that differs from the release only in the inspector fuse', () => {
    const e2e = load(readFileSync(join(repoRoot, 'electron-builder.e2e.yml'), 'utf8')) as BuilderConfig;
    expect(e2e.extends).toBe('electron-builder.yml');
    expect(e2e.directories.output).not.toBe(cfg.directories.output);
    expect(e2e.electronFuses).toEqual({ ...cfg.electronFuses, enableNodeCliInspectArguments: true });
    // Playwright's _electron.launch passes --inspect=0 to the binary it starts.
    const pw = readFileSync(join(repoRoot, 'node_modules/playwright-core/lib/coreBundle.js'), 'utf8');
    expect(pw).toContain('"--inspect=0"');
    // Only the e2e file enables it; the release config is what `npm run dist` uses.
    expect(pkg.scripts.dist).not.toContain('e2e');
  });
});
