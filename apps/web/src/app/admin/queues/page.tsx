import { QueueDashboard } from "../../../components/queue-dashboard";

export default function QueuesPage() {
  return (
    <main className="page">
      <h1>Queues</h1>
      <p className="lead">Background work across all workers. Refreshes every few seconds.</p>
      <QueueDashboard />
    </main>
  );
}
