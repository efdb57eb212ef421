-- A manager's assignment (no expiry) is recorded in "Image"."leasedUntil" as 9999-12-31, not 'infinity':
-- JavaScript has no infinite Date (Prisma reads 'infinity' as an Invalid Date, which superjson then
-- cannot send), and nothing is leased for eight thousand years.
CREATE OR REPLACE FUNCTION "image_leased_until"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  FROM (SELECT x.id, (SELECT max(COALESCE(a."expiresAt", '9999-12-31'::timestamp)) FROM "Assignment" a
                      WHERE a."imageId" = x.id AND a.status = 'active') AS until
        FROM unnest(ids) x(id)) l
  WHERE i.id = l.id AND i."leasedUntil" IS DISTINCT FROM l.until;
  RETURN NULL;
END $$;

UPDATE "Image" SET "leasedUntil" = '9999-12-31'::timestamp WHERE "leasedUntil" = 'infinity'::timestamp;
