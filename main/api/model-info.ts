/** What the engine reports about a GGUF file (the API adds the display name and the fit). */
export interface ModelInspectionData {
  size: number;
  sha256: string;
  architecture: string | null;
  parameterCount: number | null;
  quantization: string | null;
  contextLength: number | null;
  chatTemplate: string | null;
  metadata: Record<string, unknown>;
}
