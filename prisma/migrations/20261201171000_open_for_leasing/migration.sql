-- Leasing at scale (docs/SCALING.md, "Leasing"): "next image" must find the oldest open image of a project
-- among a million without walking past the ones already handed out. The image row now carries when its
-- live assignment ends ("leasedUntil": NULL when nobody holds it, 'infinity' for a manager's assignment,
-- which has no expiry), kept by the trigger below from every write to "Assignment", so the leasing query
-- reads one partial index and the lock it takes on the image row also covers the lease: a concurrent
-- claim re-checks "leasedUntil" on the locked row (READ COMMITTED re-evaluates the row it locks).

-- AlterTable
ALTER TABLE "Image" ADD COLUMN "leasedUntil" TIMESTAMP(3);

UPDATE "Image" i SET "leasedUntil" = l.until
FROM (SELECT "imageId", max(COALESCE("expiresAt", 'infinity'::timestamp)) AS until
      FROM "Assignment" WHERE status = 'active' GROUP BY "imageId") l
WHERE l."imageId" = i.id;

-- The free part of the pool, in hand-out order: ready, still open in the workflow, held by nobody.
CREATE INDEX "Image_open_for_leasing_idx" ON "Image"("projectId", "createdAt", "id")
WHERE "leasedUntil" IS NULL AND status = 'ready' AND "workflowState" IN ('new', 'in_progress');

-- Open images someone holds, by when their lease ends: the ones that ran out are handed out again before
-- the sweep (expireLeases) marks them. As small as the number of live leases.
CREATE INDEX "Image_held_for_leasing_idx" ON "Image"("projectId", "leasedUntil")
WHERE "leasedUntil" IS NOT NULL AND status = 'ready' AND "workflowState" IN ('new', 'in_progress');

-- "leasedUntil" = the latest end of the image's active assignments (NULL: none). Row triggers: every
-- writer of assignments (the domain, the test personas, imports) keeps it without knowing about it.
CREATE FUNCTION "image_leased_until"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    ids := ARRAY[NEW."imageId"];
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY[OLD."imageId"];
  ELSIF NEW."imageId" = OLD."imageId" THEN
    ids := ARRAY[NEW."imageId"];
  ELSE
    ids := ARRAY[NEW."imageId", OLD."imageId"];
  END IF;
  UPDATE "Image" i SET "leasedUntil" = l.until
  FROM (SELECT x.id, (SELECT max(COALESCE(a."expiresAt", 'infinity'::timestamp)) FROM "Assignment" a
                      WHERE a."imageId" = x.id AND a.status = 'active') AS until
        FROM unnest(ids) x(id)) l
  WHERE i.id = l.id AND i."leasedUntil" IS DISTINCT FROM l.until;
  RETURN NULL;
END $$;

CREATE TRIGGER "Assignment_leased_until" AFTER INSERT OR DELETE OR UPDATE OF "imageId", status, "expiresAt"
ON "Assignment" FOR EACH ROW EXECUTE FUNCTION "image_leased_until"();
