import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';

describe('loadConfig', () => {
  it('refuses a longest overload Retry-After below the shortest, naming the setting', () => {
    expect(() => loadConfig({ ADMISSION_RETRY_AFTER_S: '5', ADMISSION_RETRY_AFTER_MAX_S: '2' })).toThrow(
      'Invalid configuration:\n  ADMISSION_RETRY_AFTER_MAX_S: must be at least ADMISSION_RETRY_AFTER_S',
    );
  });

  it('takes a longest overload Retry-After equal to the shortest (no spread)', () => {
    const config = loadConfig({ ADMISSION_RETRY_AFTER_S: '2', ADMISSION_RETRY_AFTER_MAX_S: '2' });
    expect([config.ADMISSION_RETRY_AFTER_S, config.ADMISSION_RETRY_AFTER_MAX_S]).toEqual([2, 2]);
  });
});
