-- The review queue (domain/workflow.ts, reviewQueue): accepted masks nobody has reviewed yet, per image in
-- upload order. Partial, so it holds only what is waiting for review, and the queue counts an image's
-- unreviewed masks and finds the oldest from this index alone (no heap visit for masks reviewed long ago).
CREATE INDEX "Mask_unreviewed_idx" ON "Mask"("imageId", "createdAt")
WHERE "status" = 'accepted' AND "reviewDecision" IS NULL;
