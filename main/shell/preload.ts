/**
 * Sandboxed preload: exposes `window.workbench`, one method per catalogue operation, each a single
 * IPC invoke (arguments are validated in the main process). Imports only electron and the
 * dependency-free method list, so it bundles into one CommonJS file as the sandbox requires.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL, METHOD_NAMES, PICK_FILE_CHANNEL, SAVE_FILE_CHANNEL } from '../api/methods';

const bridge: Record<string, unknown> = {};
for (const method of METHOD_NAMES) {
  bridge[method] = (arg: unknown) => ipcRenderer.invoke(CALL_CHANNEL, method, arg ?? {});
}
bridge.pickFile = (purpose: unknown) => ipcRenderer.invoke(PICK_FILE_CHANNEL, purpose);
bridge.saveFile = (download: unknown) => ipcRenderer.invoke(SAVE_FILE_CHANNEL, download);
bridge.onEvent = (listener: (event: unknown) => void) => {
  const handler = (_e: Electron.IpcRendererEvent, event: unknown) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  };
};

contextBridge.exposeInMainWorld('workbench', bridge);
