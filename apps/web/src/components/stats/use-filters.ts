"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

/**
 * The dashboard's filters live in the URL (so a view can be shared, reloaded and its CSV link built from
 * it). Dates are whole UTC days as the pickers give them: `from` is the first day shown, `to` the last,
 * so the query's exclusive upper bound is the day after `to`.
 */
export const FILTER_KEYS = [
  "from",
  "to",
  "stage",
  "source",
  "modelVersionId",
  "annotatorId",
  "exportId",
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type FilterValues = Partial<Record<FilterKey, string>>;

const STAGES = ["assisted_manual", "semi_automatic", "fully_automatic"] as const;
const SOURCES = ["manual", "semi_auto", "auto"] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface StatsQueryFilters {
  from?: Date;
  to?: Date;
  stage?: (typeof STAGES)[number];
  source?: (typeof SOURCES)[number];
  modelVersionId?: string;
  annotatorId?: string;
  exportId?: string;
}

/** The URL's filters as the API takes them; values that do not parse are left out, not sent. */
export function toQueryFilters(values: FilterValues): StatsQueryFilters {
  const out: StatsQueryFilters = {};
  if (values.from && DAY.test(values.from)) out.from = new Date(`${values.from}T00:00:00Z`);
  if (values.to && DAY.test(values.to)) {
    out.to = new Date(new Date(`${values.to}T00:00:00Z`).getTime() + 24 * 3600 * 1000);
  }
  const stage = STAGES.find((s) => s === values.stage);
  if (stage) out.stage = stage;
  const source = SOURCES.find((s) => s === values.source);
  if (source) out.source = source;
  for (const key of ["modelVersionId", "annotatorId", "exportId"] as const) {
    const value = values[key];
    if (value && UUID.test(value)) out[key] = value;
  }
  return out;
}

/** The query string of the CSV route for these filters. */
export function csvQuery(filters: StatsQueryFilters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value instanceof Date) params.set(key, value.toISOString());
    else if (value) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function useStatsFilters() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const values = useMemo(() => {
    const out: FilterValues = {};
    for (const key of FILTER_KEYS) {
      const value = params.get(key);
      if (value) out[key] = value;
    }
    return out;
  }, [params]);
  const filters = useMemo(() => toQueryFilters(values), [values]);
  const set = useCallback(
    (key: FilterKey, value: string) => {
      const next = new URLSearchParams(params.toString());
      if (value) next.set(key, value);
      else next.delete(key);
      const query = next.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [params, pathname, router],
  );
  const clear = useCallback(() => router.replace(pathname, { scroll: false }), [pathname, router]);
  return { values, filters, set, clear };
}
