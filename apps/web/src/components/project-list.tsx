"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../trpc/client";

export function ProjectList() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const projects = useQuery({ ...trpc.project.list.queryOptions(), enabled: !!me.data });
  if (!me.data) return null;
  return (
    <section className="card" aria-labelledby="projects-title">
      <div className="section-head">
        <h2 id="projects-title">Projects</h2>
        {me.data.role === "admin" || me.data.role === "manager" ? (
          <Link href="/projects/new" className="button" data-testid="new-project-link">
            New project
          </Link>
        ) : null}
      </div>
      {projects.data?.length === 0 ? <p className="lead">No projects yet.</p> : null}
      <ul className="project-list">
        {projects.data?.map((project) => (
          <li key={project.id} data-testid="project">
            <Link href={`/projects/${project.id}`}>
              <strong>{project.name}</strong>
            </Link>
            <span className="lead">
              {project.readyImages} of {project.images} images ready
            </span>
            <progress max={Math.max(project.images, 1)} value={project.readyImages} />
          </li>
        ))}
      </ul>
    </section>
  );
}
