"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { z } from "zod";
import { useTRPC } from "../trpc/client";

const shortHash = (sha256: string) => sha256.slice(0, 12);

const uploadError = z.object({ error: z.string() });
const uploaded = z.object({ id: z.string(), name: z.string(), isActive: z.boolean() });

type UploadPhase =
  | { state: "idle" }
  | { state: "uploading"; loaded: number; total: number }
  | { state: "validating" }
  | { state: "done"; message: string }
  | { state: "failed"; message: string };

/**
 * Sends the pair as POST /api/models: the encoder's bytes then the decoder's in one body (the server
 * splits it by the two lengths). XHR, not fetch, so the upload reports progress.
 */
function sendPair(
  encoder: File,
  decoder: File,
  fields: { name: string; notes: string; activate: boolean },
  onProgress: (loaded: number, total: number) => void,
  onSent: () => void,
): Promise<{ status: number; body: unknown }> {
  const query = new URLSearchParams({
    name: fields.name,
    notes: fields.notes,
    encoderBytes: String(encoder.size),
    decoderBytes: String(decoder.size),
    activate: fields.activate ? "1" : "0",
  });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/models?${query}`);
    xhr.responseType = "json";
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.total);
    xhr.upload.onload = onSent;
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(new Blob([encoder, decoder]));
  });
}

function UploadForm({ onRegistered }: { onRegistered: () => void }) {
  const [phase, setPhase] = useState<UploadPhase>({ state: "idle" });
  const busy = phase.state === "uploading" || phase.state === "validating";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const encoder = form.get("encoder");
    const decoder = form.get("decoder");
    const name = String(form.get("name") ?? "").trim();
    if (
      !(encoder instanceof File) ||
      !(decoder instanceof File) ||
      encoder.size === 0 ||
      decoder.size === 0
    ) {
      setPhase({ state: "failed", message: "choose both an encoder and a decoder .onnx file" });
      return;
    }
    if (!name) {
      setPhase({ state: "failed", message: "give the version a name" });
      return;
    }
    setPhase({ state: "uploading", loaded: 0, total: encoder.size + decoder.size });
    try {
      const response = await sendPair(
        encoder,
        decoder,
        { name, notes: String(form.get("notes") ?? ""), activate: form.get("activate") === "on" },
        (loaded, total) => setPhase({ state: "uploading", loaded, total }),
        () => setPhase({ state: "validating" }),
      );
      const ok = uploaded.safeParse(response.body);
      if (response.status === 201 && ok.success) {
        setPhase({
          state: "done",
          message: `registered ${ok.data.name}${ok.data.isActive ? " and made it active" : ""}`,
        });
        onRegistered();
        return;
      }
      const failure = uploadError.safeParse(response.body);
      setPhase({
        state: "failed",
        message: failure.success ? failure.data.error : `upload failed (HTTP ${response.status})`,
      });
    } catch (error) {
      setPhase({ state: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  }

  return (
    <form className="model-upload" onSubmit={submit} data-testid="model-upload">
      <h2>Register a model version</h2>
      <p className="lead">
        A SAM-family encoder and decoder exported as ONNX. The pair is run once on a test image before it is
        stored.
      </p>
      <label>
        Name <input name="name" required maxLength={100} disabled={busy} />
      </label>
      <label>
        Notes <input name="notes" maxLength={2000} disabled={busy} />
      </label>
      <label>
        Encoder (.onnx) <input name="encoder" type="file" accept=".onnx" disabled={busy} />
      </label>
      <label>
        Decoder (.onnx) <input name="decoder" type="file" accept=".onnx" disabled={busy} />
      </label>
      <label>
        <input name="activate" type="checkbox" disabled={busy} /> Activate after registering
      </label>
      <button type="submit" disabled={busy}>
        Upload and validate
      </button>
      {phase.state === "uploading" ? (
        <p>
          <progress value={phase.loaded} max={phase.total || 1} /> uploading{" "}
          {Math.round((100 * phase.loaded) / (phase.total || 1))}%
        </p>
      ) : null}
      {phase.state === "validating" ? <p>Validating the pair on a test image…</p> : null}
      {phase.state === "done" ? <p className="ok">{phase.message}</p> : null}
      {phase.state === "failed" ? (
        <p className="error" role="alert">
          {phase.message}
        </p>
      ) : null}
    </form>
  );
}

/** One project's re-embed action and progress with a chosen version. */
function ReembedRow({
  project,
  versions,
  defaultVersionId,
}: {
  project: { id: string; name: string; images: number };
  versions: { id: string; name: string }[];
  defaultVersionId: string;
}) {
  const trpc = useTRPC();
  const [versionId, setVersionId] = useState(defaultVersionId);
  const progress = useQuery({
    ...trpc.models.reembedProgress.queryOptions({ projectId: project.id, modelVersionId: versionId }),
    refetchInterval: (query) =>
      query.state.data && query.state.data.embedded < query.state.data.images ? 2000 : false,
  });
  const reembed = useMutation(
    trpc.models.reembedProject.mutationOptions({ onSuccess: () => void progress.refetch() }),
  );
  const done = progress.data?.embedded ?? 0;
  const total = progress.data?.images ?? project.images;
  return (
    <tr data-testid={`reembed-${project.name}`}>
      <td>{project.name}</td>
      <td>
        <select value={versionId} onChange={(e) => setVersionId(e.target.value)}>
          {versions.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
      </td>
      <td>
        <progress value={done} max={total || 1} /> {done} / {total}
      </td>
      <td>
        <button
          type="button"
          disabled={reembed.isPending || (total > 0 && done >= total)}
          onClick={() => reembed.mutate({ projectId: project.id, modelVersionId: versionId })}
        >
          Re-embed with this version
        </button>
        {reembed.error ? <span className="error"> {reembed.error.message}</span> : null}
      </td>
    </tr>
  );
}

/** The admin's model versions: list, register, activate, and re-embed projects with a version. */
export function ModelVersions() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const versions = useQuery({ ...trpc.models.list.queryOptions(), refetchInterval: 5000 });
  const projects = useQuery(trpc.project.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.models.list.queryKey() });
  const activate = useMutation(trpc.models.activate.mutationOptions({ onSuccess: refresh }));

  if (versions.error) return <p className="error">{versions.error.message}</p>;
  if (!versions.data) return <p>Loading…</p>;
  const active = versions.data.find((v) => v.isActive);
  return (
    <>
      <table className="model-versions" data-testid="model-versions">
        <thead>
          <tr>
            <th>Name</th>
            <th>Encoder</th>
            <th>Decoder</th>
            <th>Active</th>
            <th>Created</th>
            <th>Embeddings</th>
            <th>Masks</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.data.map((v) => (
            <tr key={v.id} data-testid={`model-${v.name}`}>
              <td title={v.notes}>{v.name}</td>
              <td>
                <code title={v.encoderSha256}>{shortHash(v.encoderSha256)}</code>
              </td>
              <td>
                <code title={v.decoderSha256}>{shortHash(v.decoderSha256)}</code>
              </td>
              <td>{v.isActive ? "active" : ""}</td>
              <td>{new Date(v.createdAt).toLocaleString()}</td>
              <td>{v.embeddings}</td>
              <td>{v.masks}</td>
              <td>
                {v.isActive ? null : (
                  <button
                    type="button"
                    disabled={activate.isPending}
                    onClick={() => activate.mutate({ modelVersionId: v.id })}
                  >
                    Activate
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {activate.error ? <p className="error">{activate.error.message}</p> : null}

      <UploadForm onRegistered={refresh} />

      <h2>Re-embed projects</h2>
      <p className="lead">
        Images keep their old embeddings (and masks their version); an image opens with the active version
        once its embedding exists.
      </p>
      {active && projects.data ? (
        <table className="reembed">
          <tbody>
            {projects.data.map((p) => (
              <ReembedRow
                key={`${p.id}-${active.id}`}
                project={p}
                versions={versions.data}
                defaultVersionId={active.id}
              />
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
