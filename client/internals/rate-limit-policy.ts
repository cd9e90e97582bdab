/** A quota the server announced: `quota` units per `windowSeconds`. */
export interface QuotaPolicy {
  readonly quota: number;
  readonly windowSeconds: number;
}

/**
 * Reads the `RateLimit-Policy` field (draft-ietf-httpapi-ratelimit-headers,
 * a Structured Field List, RFC 9651) such as `"default";q=100;w=5`. With
 * several policies the one with the lowest rate (q/w) wins, since every
 * policy applies. Items without positive integers `q` and `w` are
 * skipped (the draft lets a server omit `w`, and then the rate is unknown).
 * Returns undefined when nothing usable is there.
 *
 * @example
 * ```ts
 * parseRateLimitPolicy('"default";q=100;w=5'); // { quota: 100, windowSeconds: 5 }
 * parseRateLimitPolicy(null); // undefined
 * ```
 */
export function parseRateLimitPolicy(value: string | null | undefined): QuotaPolicy | undefined {
  if (!value) return undefined;
  let best: QuotaPolicy | undefined;
  for (const item of splitList(value)) {
    const quota = integerParam(item, 'q');
    const windowSeconds = integerParam(item, 'w');
    if (quota === undefined || windowSeconds === undefined || quota < 1 || windowSeconds < 1) continue;
    if (!best || quota / windowSeconds < best.quota / best.windowSeconds) best = { quota, windowSeconds };
  }
  return best;
}

// List members are separated by commas outside sf-strings (RFC 9651 §3.1).
function splitList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items;
}

function integerParam(item: string, name: string): number | undefined {
  // The item's own value comes first (here an sf-string); parameters follow after ';'.
  const afterValue = item.replace(/^\s*"(?:[^"\\]|\\.)*"/, '');
  const match = new RegExp(`;\\s*${name}=(\\d{1,15})(?=\\s*(?:;|$))`).exec(afterValue);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
