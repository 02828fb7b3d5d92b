/**
 * From a partial event or a raw Fast.io payload to the full event the bus delivers, and through the route
 * table. Shared by `npm run -s ops -- routes test` and the route-table tests, so both judge the same event.
 *
 * A raw payload goes through `toEnvelope` and `toEntry` exactly as the ingest publishes it, then through
 * JSON as EventBridge receives it. Envelope fields EventBridge sets itself (id, time, account, region) get
 * fixed placeholders: no route pattern looks at them, and fixed values keep the output reproducible.
 */
import { FASTIO_SOURCE, toEntry, toEnvelope, type Envelope } from './fastio-envelope';
import { compilePattern, type CompiledPattern, type MatchFailure } from './pattern-matcher';
import { acceptsReplays, routeTable, type Route, type RouteTarget } from '../route-table';

/** Values for the envelope fields a sample or payload does not carry. */
export const PLACEHOLDERS = {
  version: '0',
  id: '00000000-0000-4000-8000-000000000000',
  source: FASTIO_SOURCE,
  account: '123456789012',
  time: '1970-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [] as readonly string[],
} as const;

/** The envelope fields of every event on a bus, in the order EventBridge writes them. */
const ENVELOPE_ORDER = ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'] as const;

/** An event as a rule sees it: the EventBridge envelope, plus `replay-name` on replayed events. */
export interface BusEvent {
  readonly [field: string]: unknown;
  readonly 'detail-type': string;
  readonly detail: { readonly [field: string]: unknown };
}

export interface CompletedEvent {
  readonly event: BusEvent;
  /** Envelope fields that were missing and got a placeholder, in envelope order. */
  readonly filled: readonly string[];
}

/** A partial event: at least `detail-type` and `detail`, e.g. a route's sample (other fields are kept). */
export interface PartialEvent {
  readonly 'detail-type': string;
  readonly detail: { readonly [field: string]: unknown };
}

/** Adds the envelope fields a partial event lacks (source `fastio`, placeholders for the rest); keeps the others. */
export function completeEvent<T extends PartialEvent>(sample: T): CompletedEvent {
  // Widening only: every field of the sample is read as unknown.
  const partial = sample as unknown as { readonly [field: string]: unknown };
  const event: Record<string, unknown> = {};
  const filled: string[] = [];
  for (const field of ENVELOPE_ORDER) {
    if (Object.hasOwn(partial, field)) {
      event[field] = partial[field];
    } else if (field !== 'detail-type' && field !== 'detail') {
      event[field] = field === 'resources' ? [...PLACEHOLDERS.resources] : PLACEHOLDERS[field];
      filled.push(field);
    }
  }
  for (const [field, value] of Object.entries(partial)) {
    if (!Object.hasOwn(event, field)) event[field] = value;
  }
  return { event: event as BusEvent, filled };
}

export interface PayloadEvent extends CompletedEvent {
  readonly envelope: Envelope;
}

/** The event the ingest would publish for these exact webhook body bytes (after a valid signature). */
export function eventFromPayload(rawBody: Buffer): PayloadEvent {
  const envelope = toEnvelope(rawBody);
  const entry = toEntry(envelope);
  // The bus receives Detail as a JSON string and rules match what EventBridge parses from it.
  const detail = JSON.parse(entry.Detail) as { [field: string]: unknown };
  return { envelope, ...completeEvent({ 'detail-type': entry.DetailType, source: entry.Source, detail }) };
}

export interface RouteResult {
  readonly name: string;
  readonly targets: readonly RouteTarget[];
  readonly acceptsReplays: boolean;
  readonly matched: boolean;
  /** The first condition that failed, when the route does not match. */
  readonly failure?: MatchFailure;
}

const compiled = new WeakMap<Route, CompiledPattern>();

/** The route's pattern, validated and compiled once; throws InvalidPatternError for an invalid pattern. */
export function compiledRoutePattern(route: Route): CompiledPattern {
  let pattern = compiled.get(route);
  if (pattern === undefined) {
    pattern = compilePattern(route.pattern);
    compiled.set(route, pattern);
  }
  return pattern;
}

/** Runs one event through every route, in table order, explaining each miss. */
export function evaluateRoutes(event: BusEvent, table: readonly Route[] = routeTable): RouteResult[] {
  return table.map((route) => {
    const failure = compiledRoutePattern(route).explain(event);
    const common = { name: route.name, targets: route.targets, acceptsReplays: acceptsReplays(route) };
    return failure === undefined ? { ...common, matched: true } : { ...common, matched: false, failure };
  });
}

/** Names of the routes that deliver this event. */
export function matchingRouteNames(event: BusEvent, table: readonly Route[] = routeTable): string[] {
  return table.filter((route) => compiledRoutePattern(route).matches(event)).map((route) => route.name);
}
