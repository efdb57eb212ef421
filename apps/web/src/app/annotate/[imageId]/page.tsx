import { assertCanViewImage } from "@sas/api/http";
import { sessionUser } from "@sas/auth";
import { decodingModelVersions, prisma } from "@sas/db";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { z } from "zod";
import { AnnotationWorkspace } from "../../../annotate/workspace";
import { ortRuntimeVersion } from "../../../server/ort-runtime";

const paramsSchema = z.object({ imageId: z.uuid() });

/**
 * The assisted-manual annotation screen for one image. The model version whose decoder the page runs is
 * looked up here, so the browser starts loading the decoder as the page hydrates instead of after its
 * first API call; access is checked as the API checks it (a refusal is left to the page to show). So is
 * the decoder runtime's content hash, which versions its immutable URLs.
 */
export default async function AnnotatePage({ params }: { params: Promise<{ imageId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { imageId } = parsed.data;
  const user = await sessionUser(await headers());
  if (!user) redirect(`/sign-in?next=/annotate/${imageId}`);
  const [modelVersionId, ortVersion] = await Promise.all([
    assertCanViewImage(prisma(), user, imageId)
      .then(({ image }) => decodingModelVersions(prisma(), image))
      .then(
        (versions) => versions.decoding?.id ?? null,
        () => null,
      ),
    ortRuntimeVersion(),
  ]);
  return <AnnotationWorkspace imageId={imageId} modelVersionId={modelVersionId} ortVersion={ortVersion} />;
}
