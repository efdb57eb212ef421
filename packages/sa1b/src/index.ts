export { type Bbox, type MaskExtent, maskExtent, maskToBbox } from "./bbox";
export { COCO_NAME, FILE_LIST_NAME, MANIFEST_NAME, shardName } from "./export/names";
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
  parseSa1bMemberName,
  SA1B_DEFAULT_SOURCE,
  SA1B_DEFAULT_STAGE,
  SA1B_MASK_SOURCES,
  SA1B_MEMBER,
  SA1B_STAGES,
  type Sa1bExportAnnotation,
  type Sa1bExportFile,
  type Sa1bMaskSource,
  type Sa1bStage,
  sa1bExportAnnotationSchema,
  sa1bExportFileSchema,
  sa1bMaskSourceSchema,
  sa1bStageSchema,
} from "./sa1b-file";
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
