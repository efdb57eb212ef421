-- Statistics rollup (packages/db/src/domain/stats, packages/db/README.md "Statistics"): one narrow row per
-- mask with what the dashboard groups and filters by, copied from Mask, Image and MaskTiming by the
-- triggers below, so each dashboard query reads one table of ~200-byte rows instead of joining three wide
-- ones (Mask rows carry their RLE).

-- CreateTable
CREATE TABLE "MaskStat" (
    "maskId" UUID NOT NULL,
    "projectId" UUID NOT NULL,
    "imageId" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "stage" "Stage" NOT NULL,
    "source" "MaskSource" NOT NULL,
    "status" "MaskStatus" NOT NULL,
    "reviewDecision" "ReviewDecision",
    "modelVersionId" UUID,
    "authorId" UUID,
    "label" TEXT NOT NULL DEFAULT '',
    "area" INTEGER NOT NULL,
    "imageWidth" INTEGER NOT NULL,
    "imageHeight" INTEGER NOT NULL,
    "centreX" DOUBLE PRECISION,
    "centreY" DOUBLE PRECISION,
    "annotatorId" UUID,
    "activeMs" INTEGER,
    "clicks" INTEGER,
    "boxes" INTEGER,
    "brushStrokes" INTEGER,
    "undos" INTEGER,

    CONSTRAINT "MaskStat_pkey" PRIMARY KEY ("maskId")
);

-- CreateIndex
CREATE INDEX "MaskStat_projectId_createdAt_idx" ON "MaskStat"("projectId", "createdAt");

-- A mask's row, from the mask, its image and its timing (if any).
CREATE FUNCTION "mask_stat_upsert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "MaskStat" ("maskId", "projectId", "imageId", "createdAt", "stage", "source", "status",
      "reviewDecision", "modelVersionId", "authorId", "label", "area", "imageWidth", "imageHeight", "centreX",
      "centreY", "annotatorId", "activeMs", "clicks", "boxes", "brushStrokes", "undos")
  SELECT NEW."id", i."projectId", NEW."imageId", NEW."createdAt", NEW."stage", NEW."source", NEW."status",
      NEW."reviewDecision", NEW."modelVersionId", NEW."authorId", NEW."label", NEW."area", i."width", i."height",
      CASE WHEN cardinality(NEW."bbox") = 4 AND i."width" > 0 THEN (NEW."bbox"[1] + NEW."bbox"[3] / 2) / i."width" END,
      CASE WHEN cardinality(NEW."bbox") = 4 AND i."height" > 0 THEN (NEW."bbox"[2] + NEW."bbox"[4] / 2) / i."height" END,
      t."annotatorId", t."activeMs", t."clicks", t."boxes", t."brushStrokes", t."undos"
  FROM "Image" i LEFT JOIN "MaskTiming" t ON t."maskId" = NEW."id"
  WHERE i."id" = NEW."imageId"
  ON CONFLICT ("maskId") DO UPDATE SET
      "projectId" = EXCLUDED."projectId", "imageId" = EXCLUDED."imageId", "createdAt" = EXCLUDED."createdAt",
      "stage" = EXCLUDED."stage", "source" = EXCLUDED."source", "status" = EXCLUDED."status",
      "reviewDecision" = EXCLUDED."reviewDecision", "modelVersionId" = EXCLUDED."modelVersionId",
      "authorId" = EXCLUDED."authorId", "label" = EXCLUDED."label", "area" = EXCLUDED."area",
      "imageWidth" = EXCLUDED."imageWidth", "imageHeight" = EXCLUDED."imageHeight",
      "centreX" = EXCLUDED."centreX", "centreY" = EXCLUDED."centreY";
  RETURN NULL;
END $$;

CREATE FUNCTION "mask_stat_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "MaskStat" WHERE "maskId" = OLD."id";
  RETURN NULL;
END $$;

CREATE FUNCTION "mask_stat_timing"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE "MaskStat" SET "annotatorId" = NULL, "activeMs" = NULL, "clicks" = NULL, "boxes" = NULL,
        "brushStrokes" = NULL, "undos" = NULL
      WHERE "maskId" = OLD."maskId";
  ELSE
    UPDATE "MaskStat" SET "annotatorId" = NEW."annotatorId", "activeMs" = NEW."activeMs", "clicks" = NEW."clicks",
        "boxes" = NEW."boxes", "brushStrokes" = NEW."brushStrokes", "undos" = NEW."undos"
      WHERE "maskId" = NEW."maskId";
  END IF;
  RETURN NULL;
END $$;

-- An image's size or project changes rarely (never in the app today), but its masks' rows follow.
CREATE FUNCTION "mask_stat_image"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "MaskStat" s SET "projectId" = NEW."projectId", "imageWidth" = NEW."width", "imageHeight" = NEW."height",
      "centreX" = CASE WHEN cardinality(m."bbox") = 4 AND NEW."width" > 0 THEN (m."bbox"[1] + m."bbox"[3] / 2) / NEW."width" END,
      "centreY" = CASE WHEN cardinality(m."bbox") = 4 AND NEW."height" > 0 THEN (m."bbox"[2] + m."bbox"[4] / 2) / NEW."height" END
    FROM "Mask" m WHERE m."id" = s."maskId" AND s."imageId" = NEW."id";
  RETURN NULL;
END $$;

CREATE TRIGGER "Mask_stat_upsert" AFTER INSERT OR UPDATE OF "imageId", "createdAt", "stage", "source", "status",
    "reviewDecision", "modelVersionId", "authorId", "label", "area", "bbox"
  ON "Mask" FOR EACH ROW EXECUTE FUNCTION "mask_stat_upsert"();
CREATE TRIGGER "Mask_stat_delete" AFTER DELETE ON "Mask" FOR EACH ROW EXECUTE FUNCTION "mask_stat_delete"();
CREATE TRIGGER "MaskTiming_stat" AFTER INSERT OR UPDATE OR DELETE ON "MaskTiming"
  FOR EACH ROW EXECUTE FUNCTION "mask_stat_timing"();
CREATE TRIGGER "Image_stat" AFTER UPDATE OF "projectId", "width", "height" ON "Image"
  FOR EACH ROW EXECUTE FUNCTION "mask_stat_image"();

-- Backfill the masks that exist already.
INSERT INTO "MaskStat" ("maskId", "projectId", "imageId", "createdAt", "stage", "source", "status",
    "reviewDecision", "modelVersionId", "authorId", "label", "area", "imageWidth", "imageHeight", "centreX",
    "centreY", "annotatorId", "activeMs", "clicks", "boxes", "brushStrokes", "undos")
SELECT m."id", i."projectId", m."imageId", m."createdAt", m."stage", m."source", m."status", m."reviewDecision",
    m."modelVersionId", m."authorId", m."label", m."area", i."width", i."height",
    CASE WHEN cardinality(m."bbox") = 4 AND i."width" > 0 THEN (m."bbox"[1] + m."bbox"[3] / 2) / i."width" END,
    CASE WHEN cardinality(m."bbox") = 4 AND i."height" > 0 THEN (m."bbox"[2] + m."bbox"[4] / 2) / i."height" END,
    t."annotatorId", t."activeMs", t."clicks", t."boxes", t."brushStrokes", t."undos"
FROM "Mask" m JOIN "Image" i ON i."id" = m."imageId" LEFT JOIN "MaskTiming" t ON t."maskId" = m."id";
