export * from './schemas/pagination.js';
export * from './schemas/users.js';
export * from './schemas/payments.js';
export * from './schemas/stats.js';
export * from './schemas/rates.js';
export * from './cursor.js';
export * from './errors.js';
export * from './http-headers.js';
