import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { checkPair, isSa1bImageName } from "./pair";
import type { DecodedSize, Sa1bReadItem, Sa1bReadOptions } from "./types";

/** Annotation files a folder reader takes: SA-1B's names (`sa_<n>.json`, or any `sa_*.json`). */
const isAnnotationsName = (name: string) => /^sa_.*\.json$/i.test(name);

/** `image.file_name` of a file that may not be valid yet: only its last segment, never a path out. */
function statedImageName(bytes: Uint8Array): string | null {
  try {
    const raw: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const fileName = (raw as { image?: { file_name?: unknown } } | null)?.image?.file_name;
    if (typeof fileName !== "string") return null;
    const base = fileName.split(/[\\/]/).pop() ?? "";
    return base && base !== "." && base !== ".." ? base : null;
  } catch {
    return null;
  }
}

const byNaturalName = new Intl.Collator("en", { numeric: true }).compare;

/**
 * Reads a folder of loose SA-1B files (`sa_<n>.json` beside its image; a public SA-1B sample unpacked
 * has this layout), in natural name order. Each JSON names its image in `image.file_name` (looked up
 * in the same folder; `sa_<n>.jpg` when the JSON cannot say), and one pair is in memory at a time.
 * An image named `sa_<n>.jpg` that no JSON names is reported; other files are ignored. A folder with no
 * SA-1B files at all is one error (not searched recursively: that is usually the wrong folder).
 */
export async function* readSa1bFolder<P extends DecodedSize>(
  dir: string,
  options: Sa1bReadOptions<P>,
): AsyncGenerator<Sa1bReadItem<P>> {
  const source = dir;
  const fail = (file: string, error: string): Sa1bReadItem<P> => ({ ok: false, source, file, error });
  const dirents = await readdir(dir, { withFileTypes: true });
  const files = new Set(dirents.filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name));
  const named = new Set<string>();
  const annotationFiles = [...files].filter(isAnnotationsName).sort(byNaturalName);
  if (annotationFiles.length === 0 && ![...files].some(isSa1bImageName)) {
    // Most likely the folder above the data (an unpacked sample in a subfolder): say so, not "0 imported".
    yield fail(path.basename(dir), "no SA-1B files (sa_*.json) in this folder");
    return;
  }
  for (const name of annotationFiles) {
    let annotationsBytes: Uint8Array;
    try {
      annotationsBytes = await readFile(path.join(dir, name));
    } catch (error) {
      yield fail(name, `cannot be read (${(error as Error).message})`);
      continue;
    }
    const imageFile = statedImageName(annotationsBytes) ?? name.replace(/\.json$/i, ".jpg");
    named.add(imageFile);
    if (!files.has(imageFile)) {
      yield fail(imageFile, "missing image");
      continue;
    }
    let imageBytes: Uint8Array;
    try {
      imageBytes = await readFile(path.join(dir, imageFile));
    } catch (error) {
      yield fail(imageFile, `cannot be read (${(error as Error).message})`);
      continue;
    }
    yield await checkPair({
      source,
      annotationsFile: name,
      annotationsBytes,
      imageFile,
      imageBytes,
      probeImage: options.probeImage,
    });
  }
  for (const name of [...files].filter(isSa1bImageName).sort(byNaturalName)) {
    if (!named.has(name)) yield fail(name.replace(/\.jpg$/i, ".json"), `missing annotation file for ${name}`);
  }
}
