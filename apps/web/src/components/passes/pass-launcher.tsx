"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../../trpc/client";
import {
  changedParams,
  PARAM_FIELDS,
  type ParamTexts,
  paramsToTexts,
  parseParamTexts,
  stageNames,
  summarizeParams,
} from "./pass-params";

type Stage = keyof typeof stageNames;

const stageHelp: Record<Stage, string> = {
  semi_automatic:
    "Pre-fills images with only the confident masks, as proposals annotators accept, fix or delete.",
  fully_automatic: "Every mask the filters keep is stored as accepted, as in SA-1B's last stage.",
};

/** The project's images to choose from (up to a few pages: a selection is for a handful of images). */
function ImagePicker(props: {
  projectId: string;
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
}) {
  const trpc = useTRPC();
  const images = useInfiniteQuery(
    trpc.image.listByProject.infiniteQueryOptions(
      { projectId: props.projectId, limit: 200 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = (images.data?.pages.flatMap((p) => p.items) ?? []).filter((i) => i.status !== "failed");
  const toggle = (id: string, on: boolean) => {
    const next = new Set(props.selected);
    if (on) next.add(id);
    else next.delete(id);
    props.onChange(next);
  };
  if (images.isPending) return <p className="muted">Loading images…</p>;
  if (items.length === 0) return <p className="muted">This project has no images yet.</p>;
  return (
    <>
      <div className="row">
        <button
          type="button"
          className="link"
          onClick={() => props.onChange(new Set(items.map((i) => i.id)))}
        >
          Select all
        </button>
        <button type="button" className="link" onClick={() => props.onChange(new Set())}>
          None
        </button>
        <span className="muted">{props.selected.size} selected</span>
      </div>
      <ul className="pass-image-picker" data-testid="pass-image-picker">
        {items.map((image) => (
          <li key={image.id}>
            <label>
              <input
                type="checkbox"
                checked={props.selected.has(image.id)}
                onChange={(e) => toggle(image.id, e.target.checked)}
                data-testid="pass-image-checkbox"
                data-filename={image.filename}
              />
              {/* biome-ignore lint/performance/noImgElement: thumbnails come from our own route, already sized. */}
              <img src={`/api/images/${image.id}/file?variant=thumb`} alt="" loading="lazy" />
              <span className="tile-name" title={image.filename}>
                {image.filename}
              </span>
            </label>
          </li>
        ))}
      </ul>
      {images.hasNextPage ? (
        <button type="button" className="link" onClick={() => images.fetchNextPage()}>
          More images…
        </button>
      ) : null}
    </>
  );
}

/**
 * Starts an automatic pass: a project (all its images, or a chosen few), the stage, and the parameters,
 * pre-filled with the stage's defaults; every parameter is under "Advanced".
 */
export function PassLauncher({ initialProjectId }: { initialProjectId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const projects = useQuery(trpc.project.list.queryOptions());
  const [projectId, setProjectId] = useState(initialProjectId ?? "");
  const [stage, setStage] = useState<Stage>("semi_automatic");
  const [scope, setScope] = useState<"all" | "some">("all");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const defaults = useQuery(trpc.pass.defaults.queryOptions({ stage, ...(projectId ? { projectId } : {}) }));
  const defaultParams = defaults.data?.params;
  const [texts, setTexts] = useState<ParamTexts | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);

  // The form follows the chosen stage's (and project's model's) defaults; edits made for another are dropped.
  useEffect(() => {
    if (defaultParams) setTexts(paramsToTexts(defaultParams));
  }, [defaultParams]);

  // The first project, when none was named.
  useEffect(() => {
    if (!projectId && projects.data?.[0]) setProjectId(projects.data[0].id);
  }, [projectId, projects.data]);

  const start = useMutation(
    trpc.pass.start.mutationOptions({
      onSuccess: ({ id }) => {
        setStarted(id);
        void queryClient.invalidateQueries({ queryKey: trpc.pass.list.queryKey() });
      },
    }),
  );

  const parsed = texts ? parseParamTexts(texts) : null;
  const project = projects.data?.find((p) => p.id === projectId);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setFormError(null);
    setStarted(null);
    if (!projectId) return setFormError("Choose a project.");
    if (scope === "some" && selected.size === 0) return setFormError("Choose at least one image.");
    if (!texts || !parsed || !defaultParams) return setFormError("The parameters are still loading.");
    if (!parsed.ok) return setFormError(parsed.message);
    start.mutate({
      projectId,
      stage,
      params: changedParams(texts, parsed.params, defaultParams),
      ...(scope === "some" ? { imageIds: [...selected] } : {}),
    });
  };

  return (
    <section className="card" aria-labelledby="launch-title" data-testid="pass-launcher">
      <h2 id="launch-title">Start a pass</h2>
      <form className="form pass-form" onSubmit={submit}>
        <label>
          Project
          <select
            value={projectId}
            onChange={(e) => {
              setProjectId(e.target.value);
              setSelected(new Set());
            }}
            data-testid="pass-project"
          >
            {projects.data?.length ? null : <option value="">No projects</option>}
            {projects.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.readyImages} of {p.images} ready)
              </option>
            ))}
          </select>
        </label>

        <fieldset className="choices-row">
          <legend>Images</legend>
          <label>
            <input
              type="radio"
              name="scope"
              checked={scope === "all"}
              onChange={() => setScope("all")}
              data-testid="pass-scope-all"
            />{" "}
            All images{project ? ` (${project.images})` : ""}
          </label>
          <label>
            <input
              type="radio"
              name="scope"
              checked={scope === "some"}
              onChange={() => setScope("some")}
              data-testid="pass-scope-some"
            />{" "}
            Chosen images
          </label>
        </fieldset>
        {scope === "some" && projectId ? (
          <ImagePicker projectId={projectId} selected={selected} onChange={setSelected} />
        ) : null}

        <fieldset className="choices-row">
          <legend>Stage</legend>
          {(Object.keys(stageNames) as Stage[]).map((s) => (
            <label key={s}>
              <input
                type="radio"
                name="stage"
                checked={stage === s}
                onChange={() => setStage(s)}
                data-testid={`pass-stage-${s}`}
              />{" "}
              {stageNames[s]}
            </label>
          ))}
        </fieldset>
        <p className="muted">{stageHelp[stage]}</p>

        <p data-testid="pass-params-summary">
          {parsed?.ok ? summarizeParams(parsed.params) : parsed ? parsed.message : "Loading defaults…"}
        </p>
        {defaults.data?.calibration && defaultParams ? (
          <p className="muted" data-testid="pass-calibration">
            Thresholds calibrated for this project's model, {defaults.data.calibration.model}: predicted IoU
            above {defaultParams.predIouThresh}, stability at least {defaultParams.stabilityScoreThresh} (
            {defaults.data.calibration.basis}). SAM's own values,{" "}
            {defaults.data.calibration.uncalibrated.predIouThresh} /{" "}
            {defaults.data.calibration.uncalibrated.stabilityScoreThresh}, suit SAM ViT-H and keep few whole
            objects with this model.
          </p>
        ) : null}
        <details className="pass-advanced" data-testid="pass-advanced">
          <summary>Advanced parameters</summary>
          {texts ? (
            <div className="param-grid">
              {PARAM_FIELDS.map((f) => (
                <label key={f.key} title={f.help}>
                  {f.label}
                  <input
                    type="number"
                    inputMode="decimal"
                    min={f.min}
                    max={f.max}
                    step={f.integer ? 1 : "any"}
                    value={texts[f.key]}
                    onChange={(e) => setTexts({ ...texts, [f.key]: e.target.value })}
                    aria-invalid={parsed && !parsed.ok && parsed.field === f.key ? true : undefined}
                    data-testid={`param-${f.key}`}
                  />
                  <small className="muted">{f.help}</small>
                </label>
              ))}
            </div>
          ) : null}
          <button
            type="button"
            className="link"
            onClick={() => defaultParams && setTexts(paramsToTexts(defaultParams))}
          >
            Reset to the {stageNames[stage]} defaults
          </button>
        </details>

        <div className="row">
          <button type="submit" disabled={start.isPending || !texts} data-testid="pass-start">
            {start.isPending ? "Starting…" : "Start"}
          </button>
          {started ? (
            <span className="success" role="status">
              Started.
            </span>
          ) : null}
        </div>
        {formError || start.error ? (
          <p role="alert" className="error" data-testid="pass-form-error">
            {formError ?? start.error?.message}
          </p>
        ) : null}
      </form>
    </section>
  );
}
