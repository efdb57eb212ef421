import { ModelVersions } from "../../../components/model-versions";

export default function ModelsPage() {
  return (
    <main className="page">
      <h1>Model versions</h1>
      <p className="lead">
        The encoder/decoder pairs workers embed with and annotation pages decode with. Activating a version
        switches new embeddings to it; existing embeddings and masks keep theirs.
      </p>
      <ModelVersions />
    </main>
  );
}
