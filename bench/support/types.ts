export interface BenchResult {
  /** What is measured, in one line. */
  measures: string;
  ratio: number;
  target: number;
  /** Whether the ratio must be at least (`>=`) or at most (`<=`) the target. */
  comparison: '>=' | '<=';
  holds: boolean;
  a: Record<string, unknown>;
  b: Record<string, unknown>;
  /** Context figures (a ceiling, a second ratio) shown beside the main one. */
  extra?: Record<string, unknown>;
}

export function result(r: Omit<BenchResult, 'holds'>): BenchResult {
  const holds = r.comparison === '>=' ? r.ratio >= r.target : r.ratio <= r.target;
  return { ...r, holds };
}
