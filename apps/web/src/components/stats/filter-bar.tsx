"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc/client";
import { day, sourceNames, stageNames } from "./format";
import styles from "./stats.module.css";
import type { FilterKey, FilterValues } from "./use-filters";

interface Props {
  projectId: string;
  values: FilterValues;
  set: (key: FilterKey, value: string) => void;
  clear: () => void;
  /** The annotator page fixes the annotator, so its filter is not offered there. */
  hideAnnotator?: boolean;
}

/** Date range, stage, source, model version, annotator and export selection, as the URL holds them. */
export function FilterBar({ projectId, values, set, clear, hideAnnotator }: Props) {
  const trpc = useTRPC();
  const options = useQuery(trpc.stats.options.queryOptions({ projectId }));
  return (
    <form className={styles.filters} aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        From
        <input type="date" value={values.from ?? ""} onChange={(e) => set("from", e.target.value)} />
      </label>
      <label>
        To
        <input type="date" value={values.to ?? ""} onChange={(e) => set("to", e.target.value)} />
      </label>
      <label>
        Stage
        <select value={values.stage ?? ""} onChange={(e) => set("stage", e.target.value)}>
          <option value="">all</option>
          {Object.entries(stageNames).map(([value, name]) => (
            <option key={value} value={value}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Source
        <select value={values.source ?? ""} onChange={(e) => set("source", e.target.value)}>
          <option value="">all</option>
          {Object.entries(sourceNames).map(([value, name]) => (
            <option key={value} value={value}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Model version
        <select value={values.modelVersionId ?? ""} onChange={(e) => set("modelVersionId", e.target.value)}>
          <option value="">all</option>
          {options.data?.modelVersions.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
      {hideAnnotator ? null : (
        <label>
          Annotator
          <select value={values.annotatorId ?? ""} onChange={(e) => set("annotatorId", e.target.value)}>
            <option value="">all</option>
            {options.data?.annotators.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Export selection
        <select value={values.exportId ?? ""} onChange={(e) => set("exportId", e.target.value)}>
          <option value="">whole project</option>
          {options.data?.exports.map((x) => (
            <option key={x.id} value={x.id}>
              export of {day(x.createdAt)} ({x.maskCount} masks)
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="link" onClick={clear}>
        Clear filters
      </button>
    </form>
  );
}
