import { sessionUser } from "@sas/auth";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { z } from "zod";
import { AnnotationWorkspace } from "../../../annotate/workspace";

const paramsSchema = z.object({ imageId: z.uuid() });

/** The assisted-manual annotation screen for one image. */
export default async function AnnotatePage({ params }: { params: Promise<{ imageId: string }> }) {
  const parsed = paramsSchema.safeParse(await params);
  if (!parsed.success) notFound();
  const { imageId } = parsed.data;
  if (!(await sessionUser(await headers()))) redirect(`/sign-in?next=/annotate/${imageId}`);
  return <AnnotationWorkspace imageId={imageId} />;
}
