// Starts every service as its own process (an operator can stop or kill one) with prefixed
// logs, and stops them all on Ctrl-C or SIGTERM. Services read .env themselves. `exec` makes each
// service the shell's own process, so the signal and the exit status are the service's.
import concurrently from 'concurrently';

const services = [
  { name: 'producer', command: 'exec node services/producer/dist/main.js', prefixColor: 'cyan' },
  { name: 'consumer', command: 'exec node services/consumer/dist/main.js', prefixColor: 'green' },
  { name: 'cleanup', command: 'exec node services/cleanup/dist/main.js', prefixColor: 'yellow' },
  { name: 'notifier', command: 'exec node services/notifier/dist/main.js', prefixColor: 'magenta' },
];

const { result } = concurrently(services, { prefix: '[{name}]', killSignal: 'SIGTERM', handleInput: false });
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
