export {
  Clicker,
  type GroundTruth,
  GT_IGNORE_VALUE,
  groundTruthFromGray,
  nextClick,
  withoutIgnored,
} from "./clicker";
export { type DistanceTransformOptions, distanceTransform, squaredDistanceTransform } from "./edt";
export { clicksToReach, DEFAULT_MAX_CLICKS, iouAfter, type NocSummary, summarizeSessions } from "./metrics";
export {
  type ClickPredictor,
  objectIoU,
  type SessionOptions,
  type SessionResult,
  simulateSession,
} from "./session";
