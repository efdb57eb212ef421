import { AccountBar } from "../components/account-bar";
import { ProjectList } from "../components/project-list";
import { SystemStatus } from "../components/system-status";

export default function HomePage() {
  return (
    <main className="page">
      <AccountBar />
      <header>
        <h1>Segment Anything Studio</h1>
        <p className="lead">
          Label masks with SAM in the browser, pre-fill images automatically, and export datasets in SA-1B
          format.
        </p>
      </header>
      <ProjectList />
      <SystemStatus />
    </main>
  );
}
