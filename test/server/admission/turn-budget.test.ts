import { describe, expect, it } from 'vitest';
import { adaptiveTurnBudget, fixedTurnBudget } from '../../../server/admission/turn-budget.js';

describe('adaptiveTurnBudget', () => {
  it('keeps its initial budget until a window of starts is complete', () => {
    const budget = adaptiveTurnBudget({ targetMs: 50, min: 4, max: 200, initial: 10, windowStarts: 64 });
    budget.onTurn({ durationMs: 60, started: 63, refused: 0 });
    expect(budget.current).toBe(10);
    budget.onTurn({ durationMs: 1, started: 1, refused: 0 });
    // 61 ms for 64 starts: 0.95 ms a start, 52 fit in 50 ms.
    expect(budget.current).toBe(52);
  });

  it('is as many starts as fit in the target at the cost the turns measure, following a cost that changes', () => {
    const budget = adaptiveTurnBudget({ targetMs: 50, min: 4, max: 200, smoothing: 1 });
    budget.onTurn({ durationMs: 32, started: 64, refused: 0 });
    expect(budget.current).toBe(100);
    // Requests grow four times as costly (a heavier procedure, a slower machine): a quarter as many fit.
    budget.onTurn({ durationMs: 128, started: 64, refused: 0 });
    expect(budget.current).toBe(25);
  });

  it('smooths the cost across windows', () => {
    const budget = adaptiveTurnBudget({ targetMs: 50, min: 4, max: 200, smoothing: 0.5 });
    budget.onTurn({ durationMs: 32, started: 64, refused: 0 });
    budget.onTurn({ durationMs: 96, started: 64, refused: 0 });
    // Cost 0.5 then 1.5 ms: averaged to 1 ms, 50 fit.
    expect(budget.current).toBe(50);
  });

  it('learns nothing from turns that refused or started nothing', () => {
    const budget = adaptiveTurnBudget({ targetMs: 50, min: 4, max: 200, initial: 10, windowStarts: 10, smoothing: 1 });
    budget.onTurn({ durationMs: 500, started: 100, refused: 1 });
    budget.onTurn({ durationMs: 500, started: 0, refused: 0 });
    expect(budget.current).toBe(10);
    budget.onTurn({ durationMs: 10, started: 10, refused: 0 });
    expect(budget.current).toBe(50);
  });

  it('stays within its bounds, and at the top when turns are too short to measure', () => {
    const budget = adaptiveTurnBudget({ targetMs: 50, min: 16, max: 64, windowStarts: 1, smoothing: 1 });
    budget.onTurn({ durationMs: 100, started: 1, refused: 0 });
    expect(budget.current).toBe(16);
    budget.onTurn({ durationMs: 0.001, started: 1, refused: 0 });
    expect(budget.current).toBe(64);
    budget.onTurn({ durationMs: 0, started: 1, refused: 0 });
    expect(budget.current).toBe(64);
  });

  it('refuses options that make no budget, naming them', () => {
    expect(() => adaptiveTurnBudget({ targetMs: 0, min: 1, max: 2 })).toThrow(/targetMs/);
    expect(() => adaptiveTurnBudget({ targetMs: 50, min: 10, max: 5 })).toThrow(/max/);
    expect(() => adaptiveTurnBudget({ targetMs: 50, min: 1, max: 5, initial: 9 })).toThrow(/initial/);
    expect(() => adaptiveTurnBudget({ targetMs: 50, min: 1, max: 5, smoothing: 0 })).toThrow(/smoothing/);
  });
});

describe('fixedTurnBudget', () => {
  it('stays where it was set whatever the turns did', () => {
    const budget = fixedTurnBudget(7);
    budget.onTurn({ durationMs: 1000, started: 1000, refused: 0 });
    expect(budget.current).toBe(7);
    expect(() => fixedTurnBudget(0)).toThrow(RangeError);
  });
});
