export { type Bbox, type MaskExtent, maskExtent, maskToBbox } from "./bbox";
export { bboxIoU, type IoUOptions, maskIoU, rleIoU } from "./iou";
export { assertValidMask, type BinaryMask, createMask, maskArea } from "./mask";
export {
  bboxToRle,
  type ImageSize,
  MAX_POLYGON_COORDINATE,
  type MaskToPolygonsOptions,
  maskToPolygons,
  type Polygon,
  polygonsToMask,
  polygonsToRle,
  polygonToRle,
} from "./polygon";
export {
  assertValidRle,
  type CocoRle,
  countsFromString,
  countsToString,
  decodeRle,
  encodeMask,
  MAX_RLE_PIXELS,
  type MergeMode,
  mergeRles,
  RleError,
  type RleInput,
  type RleSize,
  rleArea,
  rleFromCounts,
  rleToBbox,
  toCocoRle,
  toUncompressedRle,
  type UncompressedRle,
} from "./rle";
export {
  cocoRleSchema,
  type Sa1bAnnotation,
  type Sa1bFile,
  type Sa1bImage,
  sa1bAnnotationSchema,
  sa1bFileSchema,
  sa1bImageSchema,
  xywhSchema,
} from "./schema";
