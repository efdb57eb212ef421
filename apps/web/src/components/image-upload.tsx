"use client";

import { type DragEvent, useCallback, useRef, useState } from "react";
import { z } from "zod";

/** Mirrors MAX_UPLOAD_BYTES on the server (which enforces it); checked here to skip a doomed upload. */
const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
/** Files sent at once: enough to keep the connection busy, few enough that each bar moves. */
const CONCURRENCY = 3;

type UploadState = "queued" | "uploading" | "processing" | "added" | "duplicate" | "rejected" | "failed";

interface UploadItem {
  id: number;
  name: string;
  size: number;
  state: UploadState;
  loaded: number;
  message: string;
}

const successBody = z.object({
  status: z.enum(["created", "duplicate"]),
  image: z.object({ filename: z.string(), width: z.number(), height: z.number() }),
});
const errorBody = z.object({ error: z.string(), reason: z.string().optional() });

interface UploadResponse {
  status: number;
  body: unknown;
}

/**
 * One XHR per file: fetch() cannot report upload progress, XHR's `upload.onprogress` can. The body is
 * the File itself (streamed by the browser), the name goes URI-encoded in X-Filename.
 */
function sendFile(
  url: string,
  file: File,
  onProgress: (loaded: number) => void,
  onSent: () => void,
): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.upload.onload = onSent;
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.onabort = () => reject(new Error("cancelled"));
    xhr.send(file);
  });
}

function outcome(response: UploadResponse): Pick<UploadItem, "state" | "message"> {
  const ok = successBody.safeParse(response.body);
  if (ok.success && (response.status === 200 || response.status === 201)) {
    const { image } = ok.data;
    return ok.data.status === "created"
      ? { state: "added", message: `added (${image.width}×${image.height})` }
      : { state: "duplicate", message: `duplicate of ${image.filename}, already in the project` };
  }
  const error = errorBody.safeParse(response.body);
  const reason = error.success
    ? (error.data.reason ?? error.data.error)
    : `the server answered ${response.status}`;
  return response.status >= 400 && response.status < 500 && response.status !== 401
    ? { state: "rejected", message: `rejected: ${reason}` }
    : { state: "failed", message: `failed: ${reason}` };
}

const doneStates: UploadState[] = ["added", "duplicate", "rejected", "failed"];

export function ImageUpload({ projectId, onUploaded }: { projectId: string; onUploaded: () => void }) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const waiting = useRef<{ id: number; file: File }[]>([]);
  const active = useRef(0);
  const nextId = useRef(1);

  const update = useCallback((id: number, patch: Partial<UploadItem>) => {
    setItems((previous) => previous.map((item) => (item.id === id ? { ...item, ...patch } : item)));
  }, []);

  const pump = useCallback(() => {
    while (active.current < CONCURRENCY && waiting.current.length > 0) {
      const { id, file } = waiting.current.shift()!;
      active.current += 1;
      update(id, { state: "uploading", message: "uploading" });
      sendFile(
        `/api/projects/${projectId}/images`,
        file,
        (loaded) => update(id, { loaded }),
        // Bytes are all sent; the server now decodes and checks the image.
        () => update(id, { state: "processing", loaded: file.size, message: "checking" }),
      )
        .then((response) => {
          const result = outcome(response);
          update(id, { ...result, loaded: file.size });
          if (result.state === "added" || result.state === "duplicate") onUploaded();
        })
        .catch((error: Error) => update(id, { state: "failed", message: `failed: ${error.message}` }))
        .finally(() => {
          active.current -= 1;
          pump();
        });
    }
  }, [projectId, update, onUploaded]);

  const addFiles = useCallback(
    (files: FileList | null) => {
      if (!files || files.length === 0) return;
      const added: UploadItem[] = [];
      for (const file of Array.from(files)) {
        const id = nextId.current++;
        const tooLarge = file.size > MAX_UPLOAD_BYTES;
        added.push({
          id,
          name: file.name,
          size: file.size,
          loaded: 0,
          state: tooLarge ? "rejected" : "queued",
          message: tooLarge
            ? `rejected: larger than the ${MAX_UPLOAD_BYTES / 1024 / 1024} MB limit`
            : "waiting",
        });
        if (!tooLarge) waiting.current.push({ id, file });
      }
      setItems((previous) => [...previous, ...added]);
      pump();
    },
    [pump],
  );

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    addFiles(event.dataTransfer.files);
  };

  const finished = items.filter((item) => doneStates.includes(item.state));
  const count = (state: UploadState) => items.filter((item) => item.state === state).length;

  return (
    <section className="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Add images</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop zone is a mouse shortcut; the file input inside is the accessible control. */}
      <div
        className={`dropzone${dragging ? " dropzone-active" : ""}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop images here, or{" "}
          <label className="file-pick">
            choose files
            <input
              type="file"
              multiple
              accept="image/*"
              aria-label="Choose images"
              onChange={(event) => {
                addFiles(event.currentTarget.files);
                // Let the same files be chosen again after a fix.
                event.currentTarget.value = "";
              }}
            />
          </label>
        </p>
        <p className="lead">
          JPEG, PNG, WebP, TIFF, GIF or AVIF, up to {MAX_UPLOAD_BYTES / 1024 / 1024} MB each. Identical files
          are stored once.
        </p>
      </div>
      {items.length > 0 ? (
        <>
          <p className="upload-summary" aria-live="polite">
            {finished.length} of {items.length} done · {count("added")} added · {count("duplicate")} duplicate
            · {count("rejected") + count("failed")} not added
            {finished.length > 0 ? (
              <>
                {" · "}
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    setItems((previous) => previous.filter((item) => !doneStates.includes(item.state)))
                  }
                >
                  Clear finished
                </button>
              </>
            ) : null}
          </p>
          <ul className="upload-list">
            {items.map((item) => (
              <li key={item.id} data-testid="upload-item" data-state={item.state}>
                <span className="upload-name" title={item.name}>
                  {item.name}
                </span>
                <progress
                  max={Math.max(item.size, 1)}
                  value={item.loaded}
                  aria-label={`Upload of ${item.name}`}
                />
                <span className={`upload-message upload-${item.state}`}>{item.message}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
