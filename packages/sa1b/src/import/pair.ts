import { parseSa1bMemberName } from "../sa1b-file";
import type { DecodedSize, ProbeImage, Sa1bReadItem } from "./types";
import { checkSa1bAnnotations, imageSizeProblem } from "./validate";

/** Image members and files an SA-1B reader pairs with annotation files (SA-1B itself ships JPEG only). */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"] as const;

export const extensionOf = (name: string): string => {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot).toLowerCase() : "";
};

export const isImageName = (name: string): boolean =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extensionOf(name));

/** Name without its extension, keeping any folder: `a/sa_1.jpg` and `a/sa_1.json` share `a/sa_1`. */
export const stemOf = (name: string): string => {
  const ext = extensionOf(name);
  return ext ? name.slice(0, -ext.length) : name;
};

/** An image named like SA-1B's (`sa_<n>.jpg`): one without an annotation file is reported, others ignored. */
export const isSa1bImageName = (name: string): boolean => parseSa1bMemberName(name)?.kind === "image";

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Checks an annotation file against its image, cheapest first (JSON, then schema, then the image
 * decode), and returns the pair or the first problem, named for the file it is in.
 */
export async function checkPair<P extends DecodedSize>(args: {
  source: string;
  annotationsFile: string;
  annotationsBytes: Uint8Array;
  imageFile: string;
  imageBytes: Uint8Array;
  probeImage: ProbeImage<P>;
}): Promise<Sa1bReadItem<P>> {
  const { source, annotationsFile, imageFile } = args;
  const fail = (file: string, error: string): Sa1bReadItem<P> => ({ ok: false, source, file, error });
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(args.annotationsBytes));
  } catch (error) {
    return fail(annotationsFile, `not valid JSON (${messageOf(error)})`);
  }
  const checked = checkSa1bAnnotations(raw);
  if (!checked.ok) return fail(annotationsFile, checked.error);
  let probed: P;
  try {
    probed = await args.probeImage(imageFile, args.imageBytes);
  } catch (error) {
    return fail(imageFile, messageOf(error));
  }
  const sizeProblem = imageSizeProblem(checked.file, probed);
  if (sizeProblem) return fail(annotationsFile, sizeProblem);
  return {
    ok: true,
    source,
    annotationsFile,
    imageFile,
    file: checked.file,
    imageBytes: args.imageBytes,
    probed,
  };
}
