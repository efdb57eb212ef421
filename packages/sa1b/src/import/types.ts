import type { Sa1bExportFile } from "../sa1b-file";

/** What the importer needs to know of a decoded image; callers may return more (hash, format, ...). */
export interface DecodedSize {
  width: number;
  height: number;
}

/**
 * Decodes an image enough to trust it (the importer's caller passes the same check uploads get).
 * Throwing refuses the image: the error's message is reported for that file.
 */
export type ProbeImage<P extends DecodedSize> = (fileName: string, bytes: Uint8Array) => Promise<P>;

/** One image and its annotation file, both valid and agreeing with each other. */
export interface Sa1bPair<P extends DecodedSize> {
  ok: true;
  /** The folder or archive it came from, as given. */
  source: string;
  annotationsFile: string;
  imageFile: string;
  file: Sa1bExportFile;
  imageBytes: Uint8Array;
  probed: P;
}

/** A file that cannot be imported, and why, in one line. */
export interface Sa1bFileError {
  ok: false;
  source: string;
  /** A member or file name (`sa_12.json`), or the archive's own name for damage to the archive. */
  file: string;
  error: string;
}

export type Sa1bReadItem<P extends DecodedSize> = Sa1bPair<P> | Sa1bFileError;

export interface Sa1bReadOptions<P extends DecodedSize> {
  probeImage: ProbeImage<P>;
}
