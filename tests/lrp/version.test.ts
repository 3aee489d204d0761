// The addon refuses, at load, a libggml-base other than the one its headers came from. The decision is a pure
// function (native/src/version_check.h) that the load runs on the real values; here it runs on chosen ones.
import { describe, expect, it } from 'vitest';
import { ggmlMismatch, lrpVersion } from '../../main/lrp/index';

describe('ggml version/commit check at addon load', () => {
  it('accepts the library the addon is loaded with (it loaded, so the real values agree)', () => {
    const v = lrpVersion();
    expect(v.ggml).toBe(v.headersVersion);
    expect(v.commit).toBe(v.builtAgainstCommit);
    expect(ggmlMismatch({ version: v.headersVersion, commit: v.builtAgainstCommit }, { version: v.ggml, commit: v.commit })).toBeNull();
  });

  it('refuses another version, naming both versions and commits and the fix', () => {
    expect(ggmlMismatch({ version: '0.23.0', commit: '5b4ebc5' }, { version: '0.24.1', commit: '5b4ebc5' })).toBe(
      'rw_lrp: ggml mismatch: the addon was compiled against ggml 0.23.0 (commit 5b4ebc5) but the loaded ' +
        'libggml-base is 0.24.1 (commit 5b4ebc5); rebuild with `npm run build:native`',
    );
  });

  it('refuses the same version from another commit', () => {
    expect(ggmlMismatch({ version: '0.23.0', commit: '5b4ebc5' }, { version: '0.23.0', commit: 'a1b2c3d' })).toBe(
      'rw_lrp: ggml mismatch: the addon was compiled against ggml 0.23.0 (commit 5b4ebc5) but the loaded ' +
        'libggml-base is 0.23.0 (commit a1b2c3d); rebuild with `npm run build:native`',
    );
    // exact comparison: a commit that is a prefix of the other is still another commit
    expect(ggmlMismatch({ version: '0.23.0', commit: '5b4ebc5' }, { version: '0.23.0', commit: '5b4ebc' })).toMatch(/^rw_lrp: ggml mismatch: /);
  });
});
