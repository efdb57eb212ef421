import { decodeRle, encodeMask } from "./packages/sa1b/src/index";
import { blobMask, noiseMask, seededRandom } from "./packages/sa1b/src/test-utils";

const rng = seededRandom(1);
const w = 2250,
  h = 1500;
const rect = noiseMask(rng, w, h, 0);
for (let y = 300; y < 1200; y++) for (let x = 200 + (y % 50); x < 1900; x++) rect.data[y * w + x] = 1;
const noise = noiseMask(rng, w, h, 0.5);
const blob = blobMask(rng, w, h, 6);
const med = (f: () => void) => {
  const ts: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return `min ${ts[0]!.toFixed(1)} med ${ts[4]!.toFixed(1)}`;
};
for (const [name, m] of [
  ["rect", rect],
  ["blob", blob],
  ["noise", noise],
] as const) {
  const rle = encodeMask(m);
  console.log(
    name,
    "encode",
    med(() => encodeMask(m)),
    "| decode",
    med(() => decodeRle(rle)),
  );
}
