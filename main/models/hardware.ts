/**
 * This machine's hardware as node-llama-cpp sees it: the GPU its prebuilt binaries can use (CUDA, Vulkan,
 * Metal), the devices' names and VRAM, and the RAM and CPU cores. A machine without a usable GPU answers
 * "CPU only": GPU offload then falls back to the CPU (models/session.ts gpuPlan).
 */
import { freemem, totalmem } from 'node:os';
import { sessionLlama } from './session';
import { physicalCoreCount } from './session-threads';

export interface HardwareInfo {
  /** The GPU node-llama-cpp would offload to; null = CPU only. */
  gpu: { type: string; devices: string[]; vramTotalBytes: number; vramFreeBytes: number; unifiedMemory: boolean } | null;
  ram: { totalBytes: number; freeBytes: number };
  cpuCores: number;
  /** One line for the Models screen, e.g. "CPU only (no GPU found)". */
  summary: string;
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

export async function detectHardware(): Promise<HardwareInfo> {
  const ram = { totalBytes: totalmem(), freeBytes: freemem() };
  const cpuCores = physicalCoreCount();
  let gpu: HardwareInfo['gpu'] = null;
  let why = 'no GPU found';
  try {
    // 'auto': the GPU build node-llama-cpp ships for this machine (build 'never': never a source build)
    const llama = await sessionLlama('auto', cpuCores);
    if (llama.gpu !== false && llama.supportsGpuOffloading) {
      const vram = await llama.getVramState();
      gpu = { type: llama.gpu, devices: await llama.getGpuDeviceNames(), vramTotalBytes: vram.total, vramFreeBytes: vram.free, unifiedMemory: vram.unifiedSize > 0 };
    }
  } catch (e) {
    why = `GPU detection failed: ${(e as Error).message}`;
  }
  const cpu = `${cpuCores} CPU core${cpuCores === 1 ? '' : 's'}, ${gib(ram.totalBytes)} RAM`;
  const summary = gpu
    ? `GPU: ${gpu.devices.join(', ') || gpu.type} (${gpu.type}, ${gib(gpu.vramFreeBytes)} of ${gib(gpu.vramTotalBytes)} VRAM free); ${cpu}`
    : `CPU only (${why}); ${cpu}`;
  return { gpu, ram, cpuCores, summary };
}
