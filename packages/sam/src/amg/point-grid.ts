/**
 * SAM's `build_point_grid`: `n * n` points in [0, 1]², cell centres of an n x n grid (first and last at
 * 1/(2n) and 1 - 1/(2n)), row by row (y outer, x inner), interleaved as x, y.
 * Values follow `np.linspace(offset, 1 - offset, n)`: `start + i * step`, with the last one exactly the end.
 */
export function buildPointGrid(nPerSide: number): Float64Array {
  if (!Number.isInteger(nPerSide) || nPerSide < 1) {
    throw new RangeError(`points per side must be a positive integer, got ${nPerSide}`);
  }
  const offset = 1 / (2 * nPerSide);
  const side = linspace(offset, 1 - offset, nPerSide);
  const out = new Float64Array(2 * nPerSide * nPerSide);
  let k = 0;
  for (let row = 0; row < nPerSide; row++) {
    for (let col = 0; col < nPerSide; col++) {
      out[k++] = side[col]!;
      out[k++] = side[row]!;
    }
  }
  return out;
}

function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  out[n - 1] = stop;
  return out;
}

/** One normalised grid per layer (SAM's `build_all_layer_point_grids`), from `pointsPerSideByLayer`. */
export function buildAllLayerPointGrids(pointsPerSide: readonly number[]): Float64Array[] {
  return pointsPerSide.map(buildPointGrid);
}

/**
 * A layer's normalised grid scaled to a crop of `width x height` pixels, in that crop's own frame: SAM's
 * `point_grids[layer] * [cropped_w, cropped_h]`. These are the prompts for the crop's embedding.
 */
export function scaleGridToCrop(grid: Float64Array, width: number, height: number): Float32Array {
  const out = new Float32Array(grid.length);
  for (let i = 0; i < grid.length; i += 2) {
    out[i] = grid[i]! * width;
    out[i + 1] = grid[i + 1]! * height;
  }
  return out;
}
