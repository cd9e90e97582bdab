import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';

/*
 * Under `npm run start:cluster` a scrape reaches one worker, picked by the
 * primary's round robin: alone, its counts would be that worker's. The
 * worker asks the primary, whose prom-client AggregatorRegistry asks every
 * worker for its registry and sums them (gauges too: entries, bytes, and
 * workers per breaker state).
 */

const ASK = 'composure:metrics?';
const ANSWER = 'composure:metrics';
const WAIT_MS = 5_000;

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}
const isAsk = (m: unknown): m is Ask => typeof m === 'object' && m !== null && (m as Ask).type === ASK;
const isAnswer = (m: unknown): m is Answer => typeof m === 'object' && m !== null && (m as Answer).type === ANSWER;

/** In the primary: answers the workers' requests for the metrics summed over all of them. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isAsk(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text } satisfies Answer),
      (err: unknown) => worker.send({ type: ANSWER, id: message.id, error: String(err) } satisfies Answer),
    );
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * `/metrics` for this process: its own registry, or, in a cluster worker,
 * the sum over every worker (the worker's registry is what it reports when
 * the primary asks).
 */
export function metricsHandler(registry: Registry, local: Handler): Handler {
  if (!cluster.isWorker || typeof process.send !== 'function') return local;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's worker side: answering the primary's requests
  const waiting = new Map<number, (answer: Answer) => void>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (isAnswer(message)) waiting.get(message.id)?.(message);
  });
  const ask = () =>
    new Promise<Answer>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => settle({ type: ANSWER, id, error: 'no answer from the primary' }), WAIT_MS);
      const settle = (answer: Answer) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(answer);
      };
      waiting.set(id, settle);
      process.send?.({ type: ASK, id } satisfies Ask);
    });
  return async (_req, res) => {
    const answer = await ask();
    res.setHeader('cache-control', 'no-store');
    if (answer.text === undefined) {
      res.statusCode = 503;
      res.setHeader('retry-after', '1');
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('content-type', registry.contentType);
    res.end(answer.text);
  };
}
