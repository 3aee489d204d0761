import type {
  ApiErrorData,
  Envelope,
  FileHandleInfo,
  MethodName,
  WorkbenchApi,
  WorkbenchBridge,
  WorkbenchEvent,
} from '../../../main/api/catalogue';
import { METHOD_NAMES } from '../../../main/api/methods';

/**
 * The renderer's one way to reach the engine. In Electron the preload exposes `window.workbench`
 * (IPC); in browser mode the same interface is implemented over HTTP with the access token from
 * the address. Screens only see `WorkbenchApi` plus file picking and events.
 */
export class WorkbenchError extends Error {
  readonly code: string;
  readonly fields: Record<string, string>;
  constructor(data: ApiErrorData) {
    super(data.message);
    this.code = data.code;
    this.fields = data.fields ?? {};
  }
}

export type FilePurpose = 'dataset' | 'labels' | 'model' | 'definitions' | 'data-dir';

export interface Client {
  api: WorkbenchApi;
  mode: 'electron' | 'browser';
  /** A native dialog (Electron) or the browser's file chooser plus an upload; null if cancelled. */
  pickFile(purpose: FilePurpose): Promise<FileHandleInfo | null>;
  onEvent(listener: (e: WorkbenchEvent) => void): () => void;
  /** Saves an export: a save dialog in Electron, a browser download in browser mode. */
  saveExport(download: string, name: string): Promise<string | null>;
}

declare global {
  interface Window {
    workbench?: WorkbenchBridge;
  }
}

function unwrap<T>(env: Envelope<T>): T {
  if (env.ok) return env.value;
  throw new WorkbenchError(env.error);
}

const ACCEPT: Record<FilePurpose, string> = {
  dataset: '.xlsx,.json,.jsonl,.csv,.tsv,.txt',
  labels: '.csv,.tsv,.txt',
  model: '.gguf',
  definitions: '.json',
  // never asked for in browser mode (the data directory is not chosen from a browser)
  'data-dir': '',
};

function electronClient(bridge: WorkbenchBridge): Client {
  const api = {} as Record<MethodName, (arg: unknown) => Promise<unknown>>;
  for (const m of METHOD_NAMES) {
    api[m] = async (arg) => unwrap(await (bridge[m] as (a: unknown) => Promise<Envelope<unknown>>)(arg ?? {}));
  }
  return {
    api: api as unknown as WorkbenchApi,
    mode: 'electron',
    pickFile: async (purpose) => unwrap(await bridge.pickFile(purpose)),
    saveExport: async (download) => unwrap(await bridge.saveFile(download))?.savedTo ?? null,
    onEvent: (l) => bridge.onEvent(l),
  };
}

/** The access token arrives in the address fragment (#token=...), never sent to the server in logs. */
function readToken(): string {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem('workbench-token', fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem('workbench-token') ?? '';
}

function httpClient(): Client {
  const token = readToken();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const api = {} as Record<MethodName, (arg: unknown) => Promise<unknown>>;
  for (const m of METHOD_NAMES) {
    api[m] = async (arg) => {
      const res = await fetch(`/api/call/${m}`, { method: 'POST', headers, body: JSON.stringify(arg ?? {}) });
      if (res.status === 401) throw new WorkbenchError({ code: 'failed', message: 'Access token missing or wrong: open the address printed by `npm run web` (it ends in #token=...).' });
      return unwrap((await res.json()) as Envelope<unknown>);
    };
  }
  return {
    api: api as unknown as WorkbenchApi,
    mode: 'browser',
    pickFile: (purpose) =>
      new Promise<FileHandleInfo | null>((resolve, reject) => {
        const input = document.createElement('input');
        input.type = 'file';
        input.accept = ACCEPT[purpose];
        // Attached (hidden) so every browser, and Playwright's file chooser, treats it as a real picker.
        input.hidden = true;
        document.body.append(input);
        input.addEventListener('cancel', () => (input.remove(), resolve(null)));
        input.addEventListener('change', async () => {
          input.remove();
          const file = input.files?.[0];
          if (!file) return resolve(null);
          try {
            const res = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}` },
              body: file,
            });
            resolve(unwrap((await res.json()) as Envelope<FileHandleInfo>));
          } catch (e) {
            reject(e instanceof WorkbenchError ? e : new WorkbenchError({ code: 'failed', message: `upload of ${file.name} failed: ${String(e)}` }));
          }
        });
        input.click();
      }),
    async saveExport(download, name) {
      const res = await fetch(`/api/download/${download}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new WorkbenchError({ code: 'failed', message: `download of ${name} failed (${res.status})` });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
    onEvent(listener) {
      const es = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
      es.onmessage = (m) => listener(JSON.parse(m.data) as WorkbenchEvent);
      return () => es.close();
    },
  };
}

export const client: Client = window.workbench ? electronClient(window.workbench) : httpClient();
export const api = client.api;

/** Error text and per-field messages of a failed call, for showing next to the cause. */
export function describeError(e: unknown): { message: string; fields: Record<string, string> } {
  if (e instanceof WorkbenchError) return { message: e.message, fields: e.fields };
  return { message: e instanceof Error ? e.message : String(e), fields: {} };
}
