import { type BinaryMask, maskIoU } from "@sas/sa1b";
import type { PointPrompt } from "../types";
import { Clicker, type GroundTruth, withoutIgnored } from "./clicker";
import { DEFAULT_MAX_CLICKS } from "./metrics";

/**
 * The model under test: given every click so far (oldest first), return the predicted mask at the
 * ground truth's resolution. Stateful predictors (mask feedback) keep their state between calls.
 */
export type ClickPredictor = (clicks: readonly PointPrompt[]) => BinaryMask | Promise<BinaryMask>;

export interface SessionOptions {
  maxClicks?: number;
  /**
   * Stop once IoU reaches this (RITM stops at its NoC threshold to save time). Leave unset to run all
   * `maxClicks`, which mIoU at high click counts needs.
   */
  stopAtIou?: number;
}

export interface SessionResult {
  clicks: PointPrompt[];
  /** IoU after each click; shorter than `maxClicks` if the session stopped early. */
  ious: number[];
  /** The last prediction, for visual checks. */
  lastMask: BinaryMask | null;
}

/** IoU between a prediction and the object, leaving the ignored pixels out of both. */
export function objectIoU(gt: GroundTruth, pred: BinaryMask): number {
  return maskIoU(gt.object, withoutIgnored(gt, pred));
}

/**
 * One simulated interactive session: click, predict, score, and click again on the errors, up to
 * `maxClicks`. Ends early if the simulator finds nothing left to click (a perfect mask); callers
 * score the missing clicks with the last IoU (see `iouAfter`).
 */
export async function simulateSession(
  gt: GroundTruth,
  predict: ClickPredictor,
  { maxClicks = DEFAULT_MAX_CLICKS, stopAtIou }: SessionOptions = {},
): Promise<SessionResult> {
  const clicker = new Clicker(gt);
  const ious: number[] = [];
  let mask: BinaryMask | null = null;
  while (ious.length < maxClicks) {
    const click = clicker.click(mask);
    if (!click) break;
    mask = await predict(clicker.clicks);
    const iou = objectIoU(gt, mask);
    ious.push(iou);
    if (stopAtIou !== undefined && iou >= stopAtIou) break;
  }
  return { clicks: [...clicker.clicks], ious, lastMask: mask };
}
