import { Counter, Gauge, type Registry } from 'prom-client';
import type { Admission } from '../admission/index.js';

/**
 * Admission control's metrics: the counts live in the admission (plain
 * numbers on the hot path) and are read when the registry is scraped; the
 * queue-wait histogram is observed by the admission itself.
 */
export function registerAdmissionMetrics(registry: Registry, admission: Admission): void {
  const registers = [registry];
  new Counter({
    name: 'composure_admission_shed_total',
    help: 'Requests refused with 503 overloaded, by tenant id (unknown: a key not looked up lately) and cause (queue_full: no place to wait; queue_timeout: could not start in time).',
    labelNames: ['tenant', 'cause'] as const,
    registers,
    collect() {
      this.reset();
      for (const [tenant, counts] of admission.shedTotals()) {
        for (const [cause, count] of Object.entries(counts)) if (count > 0) this.inc({ tenant, cause }, count);
      }
    },
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge('composure_admission_limit', 'Current concurrency limit (adaptive unless ADMISSION_LIMIT is set).', () => admission.stats().limit);
  gauge('composure_admission_turn_budget', 'Requests an event-loop turn may start before it sheds, and carry once it does (adaptive unless ADMISSION_LIMIT is set).', () => admission.stats().turnBudget);
  gauge('composure_admission_in_flight', 'Requests holding an admission slot.', () => admission.stats().inflight);
  gauge('composure_admission_queue_depth', 'Requests waiting for a slot.', () => admission.stats().queued);
  admission.register(registry);
}
