import fs from "node:fs";
import path from "node:path";

/** Writes `pipelines/<name>/pipeline.yaml` and the block files of a test project. */
export function writePipeline(projectDir: string, name: string, yaml: string, files: Record<string, string>): void {
  const dir = path.join(projectDir, "pipelines", name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "pipeline.yaml"), yaml);
  for (const [file, code] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), code);
}
