// js-yaml ships with electron-builder (which reads electron-builder.yml with it); it has no bundled types.
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
