import { createReadStream } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import { checkPair, isImageName, isSa1bImageName, stemOf } from "./pair";
import type { DecodedSize, Sa1bReadItem, Sa1bReadOptions } from "./types";

/** A member larger than this is refused unread (the upload limit; SA-1B images are ~0.5 MB). */
export const MAX_MEMBER_BYTES = 200 * 1024 * 1024;

interface Member {
  name: string;
  bytes: Uint8Array;
}

/** The halves of a pair seen so far, by stem (`sa_1` for `sa_1.jpg` and `sa_1.json`). */
interface Halves {
  annotations?: Member;
  image?: Member;
}

const memberName = (name: string) => name.replace(/^(\.\/)+/, "");

async function readMember(entry: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of entry) {
    if (!(chunk instanceof Uint8Array)) throw new Error("tar member yielded something other than bytes");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads an SA-1B shard (`.tar`, or `.tar.gz` / `.tgz`) as a stream: members `sa_<n>.jpg` and
 * `sa_<n>.json` pair up by name in whichever order they come, and each pair is checked and yielded as
 * soon as it is complete, so memory holds the members still waiting for their other half (one pair for
 * SA-1B's own tars, which put each image right before its JSON). Other members are skipped.
 *
 * Problems are yielded per file: a bad pair names its JSON or image; a JSON without an image is
 * "sa_7.jpg: missing image"; an `sa_<n>.jpg` without a JSON is reported too. Damage to the archive
 * (truncation, a bad header) ends reading with one error naming the archive and the last whole member;
 * everything complete before it has been yielded already. A tar cut exactly between two members is
 * indistinguishable from a shorter tar: its missing halves show up as unpaired files.
 */
export async function* readSa1bTar<P extends DecodedSize>(
  tarPath: string,
  options: Sa1bReadOptions<P>,
): AsyncGenerator<Sa1bReadItem<P>> {
  const source = tarPath;
  const archive = path.basename(tarPath);
  const fail = (file: string, error: string): Sa1bReadItem<P> => ({ ok: false, source, file, error });
  const extract = tarExtract();
  const input = createReadStream(tarPath);
  const gzipped = /\.(tgz|gz)$/i.test(tarPath);
  const feeding = (gzipped ? pipeline(input, createGunzip(), extract) : pipeline(input, extract)).catch(
    // The same error reaches the iterator below, which reports it; this only keeps it from being unhandled.
    () => {},
  );

  const waiting = new Map<string, Halves>();
  let lastWhole: string | null = null;
  let entries = 0;
  let sawPairMember = false;
  let damaged = false;
  try {
    try {
      for await (const entry of extract) {
        entries += 1;
        const name = memberName(entry.header.name);
        const isAnnotations = name.toLowerCase().endsWith(".json");
        if (entry.header.type !== "file" || !(isAnnotations || isImageName(name))) {
          entry.resume();
          continue;
        }
        sawPairMember = true;
        if ((entry.header.size ?? 0) > MAX_MEMBER_BYTES) {
          entry.resume();
          yield fail(name, `larger than the ${MAX_MEMBER_BYTES / 1024 / 1024} MB limit`);
          continue;
        }
        const bytes = await readMember(entry);
        lastWhole = name;
        const stem = stemOf(name);
        const halves = waiting.get(stem) ?? {};
        const half = isAnnotations ? "annotations" : "image";
        if (halves[half]) {
          yield fail(name, `appears twice in the archive (the second is ignored)`);
          continue;
        }
        halves[half] = { name, bytes };
        if (!halves.annotations || !halves.image) {
          waiting.set(stem, halves);
          continue;
        }
        waiting.delete(stem);
        yield await checkPair({
          source,
          annotationsFile: halves.annotations.name,
          annotationsBytes: halves.annotations.bytes,
          imageFile: halves.image.name,
          imageBytes: halves.image.bytes,
          probeImage: options.probeImage,
        });
      }
    } catch (error) {
      damaged = true;
      const detail = error instanceof Error ? error.message : String(error);
      if (/unexpected end/i.test(detail)) {
        yield fail(
          archive,
          `truncated archive ${lastWhole ? `after ${lastWhole}` : "before its first whole member"}`,
        );
      } else if (entries === 0) {
        yield fail(archive, `not a tar archive (${detail})`);
      } else {
        yield fail(
          archive,
          `damaged archive ${lastWhole ? `after ${lastWhole}` : "at its start"} (${detail})`,
        );
      }
    }
    if (!sawPairMember && !damaged)
      yield fail(archive, "no SA-1B members (sa_*.json with images) in this archive");
    for (const [stem, halves] of waiting) {
      if (halves.annotations) yield fail(`${stem}.jpg`, "missing image");
      else if (halves.image && isSa1bImageName(halves.image.name)) {
        yield fail(`${stem}.json`, `missing annotation file for ${halves.image.name}`);
      }
    }
  } finally {
    input.destroy();
    extract.destroy();
    await feeding;
  }
}
