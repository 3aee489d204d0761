/**
 * The renderer's Content-Security-Policy, used by the Electron shell (response header) and the
 * browser-mode server. No eval, no inline scripts, nothing from the network; inline *styles* are
 * allowed because the heatmaps colour each token with a computed background.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
