import { useEffect } from 'preact/hooks';
import { KeyPage } from './auth/key.page.js';
import { forgetOperatorKey, operatorKey } from './api/operator-key.js';
import { DeadLettersPage } from './dead-letters/dead-letters.page.js';
import { JobPage } from './job/job.page.js';
import { JobsPage } from './jobs/jobs.page.js';
import { OverviewPage } from './overview/overview.page.js';
import { QueuesPage } from './queues/queues.page.js';
import { Link, navigate, useRoute, type Route } from './router.js';
import { WorkersPage } from './workers/workers.page.js';

const SECTIONS = [
  { to: '/', label: 'Overview', page: 'overview' },
  { to: '/jobs', label: 'Jobs', page: 'jobs' },
  { to: '/queues', label: 'Queues', page: 'queues' },
  { to: '/workers', label: 'Workers', page: 'workers' },
  { to: '/dead-letters', label: 'Dead letters', page: 'dead-letters' },
] as const;

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'queues':
      return <QueuesPage />;
    case 'workers':
      return <WorkersPage />;
    case 'jobs':
      return <JobsPage query={route.query} />;
    case 'job':
      return <JobPage id={route.id} />;
    case 'dead-letters':
      return <DeadLettersPage />;
    case 'key':
      return <KeyPage next={route.next} />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>/ui{route.path}</code>. <Link to="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}

/** The tab's title names the page, and the job: tabs and bookmarks stay apart. */
function titleOf(route: Route): string {
  if (route.page === 'job') return `Job ${route.id.slice(0, 8)}`;
  if (route.page === 'key') return 'Operator key';
  if (route.page === 'not-found') return 'Not found';
  return SECTIONS.find((section) => section.page === route.page)?.label ?? 'Conveyor';
}

export function App() {
  const route = useRoute();
  const current = route.page === 'job' ? 'jobs' : route.page;
  useEffect(() => {
    document.title = `${titleOf(route)} · Conveyor`;
  }, [route]);
  const signOut = () => {
    forgetOperatorKey();
    navigate('/key');
  };
  return (
    <>
      <header class="topbar">
        <Link to="/" class="brand">
          Conveyor
        </Link>
        <nav aria-label="Sections">
          {SECTIONS.map((section) => (
            <Link
              key={section.page}
              to={section.to}
              aria-current={current === section.page ? 'page' : undefined}
            >
              {section.label}
            </Link>
          ))}
        </nav>
        {operatorKey() !== null && (
          <button type="button" class="link" onClick={signOut}>
            Forget key
          </button>
        )}
      </header>
      <main>
        <PageFor route={route} />
      </main>
    </>
  );
}
