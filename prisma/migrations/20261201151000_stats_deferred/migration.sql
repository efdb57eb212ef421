-- MaskStat rows of new or changed masks are written when the writing transaction commits (a deferred
-- constraint trigger), from the mask as it is then. A manual mask is saved with its timing in one
-- transaction: written at commit, its row is inserted once with the timing in it instead of inserted and
-- then updated, which halves the table's dead space (and the dashboard's reads) after bulk writes. A mask
-- created and deleted in the same transaction leaves no row.
DROP TRIGGER "Mask_stat_upsert" ON "Mask";

CREATE OR REPLACE FUNCTION "mask_stat_upsert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "MaskStat" ("maskId", "projectId", "imageId", "createdAt", "stage", "source", "status",
      "reviewDecision", "modelVersionId", "authorId", "label", "area", "imageWidth", "imageHeight", "centreX",
      "centreY", "annotatorId", "activeMs", "clicks", "boxes", "brushStrokes", "undos")
  SELECT m."id", i."projectId", m."imageId", m."createdAt", m."stage", m."source", m."status",
      m."reviewDecision", m."modelVersionId", m."authorId", m."label", m."area", i."width", i."height",
      CASE WHEN cardinality(m."bbox") = 4 AND i."width" > 0 THEN (m."bbox"[1] + m."bbox"[3] / 2) / i."width" END,
      CASE WHEN cardinality(m."bbox") = 4 AND i."height" > 0 THEN (m."bbox"[2] + m."bbox"[4] / 2) / i."height" END,
      t."annotatorId", t."activeMs", t."clicks", t."boxes", t."brushStrokes", t."undos"
  FROM "Mask" m JOIN "Image" i ON i."id" = m."imageId" LEFT JOIN "MaskTiming" t ON t."maskId" = m."id"
  WHERE m."id" = NEW."id"
  ON CONFLICT ("maskId") DO UPDATE SET
      "projectId" = EXCLUDED."projectId", "imageId" = EXCLUDED."imageId", "createdAt" = EXCLUDED."createdAt",
      "stage" = EXCLUDED."stage", "source" = EXCLUDED."source", "status" = EXCLUDED."status",
      "reviewDecision" = EXCLUDED."reviewDecision", "modelVersionId" = EXCLUDED."modelVersionId",
      "authorId" = EXCLUDED."authorId", "label" = EXCLUDED."label", "area" = EXCLUDED."area",
      "imageWidth" = EXCLUDED."imageWidth", "imageHeight" = EXCLUDED."imageHeight",
      "centreX" = EXCLUDED."centreX", "centreY" = EXCLUDED."centreY",
      "annotatorId" = EXCLUDED."annotatorId", "activeMs" = EXCLUDED."activeMs", "clicks" = EXCLUDED."clicks",
      "boxes" = EXCLUDED."boxes", "brushStrokes" = EXCLUDED."brushStrokes", "undos" = EXCLUDED."undos";
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER "Mask_stat_upsert" AFTER INSERT OR UPDATE OF "imageId", "createdAt", "stage", "source",
    "status", "reviewDecision", "modelVersionId", "authorId", "label", "area", "bbox"
  ON "Mask" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "mask_stat_upsert"();
