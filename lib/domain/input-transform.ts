/**
 * EventBridge target input: InputPath and InputTransformer (InputPathsMap + InputTemplate).
 *
 * A pure module used by the route table (to reject what PutTargets would reject, at synth) and by the
 * local pipeline (to deliver exactly the body EventBridge delivers). Sources, cited below as:
 * - [guide]: EventBridge User Guide, "Amazon EventBridge input transformation" (eb-transform-target-input),
 *   its predefined variables, worked examples and "Common issues with transforming input".
 * - [api]: EventBridge API Reference, InputTransformer and Target (and the service model's constraints:
 *   InputPathsMap at most 100 entries, keys 1..256 chars of `[A-Za-z0-9_-]`, paths at most 256 chars,
 *   InputTemplate 1..8192 chars, InputPath at most 256 chars).
 * - [recorded]: responses recorded from real EventBridge by LocalStack's AWS-validated snapshot tests
 *   (tests/aws/services/events/test_events_inputs.snapshot.json), which settle what the docs leave open:
 *   a missing path, objects and lists inside a text, booleans, PutTargets' error for an unknown placeholder.
 *
 * Rendering model (each rule carries its source):
 * - A template whose first non-blank character is `{` is a JSON template ([api]: "If InputTemplate is a
 *   JSON object (surrounded by curly braces)"); anything else is a text template, delivered as written
 *   with its placeholders filled (so `"instance <instance>"` keeps its quotes, [guide] "Simple string").
 * - Text template: every value is inserted raw: a string as is, a number or boolean as its JSON text,
 *   an object or array as JSON with its quotes removed ([recorded]: `{acc_id:0a787ecb-4015,sf_id:baz}`,
 *   `[ACTIVE,INACTIVE]`; [guide]: "EventBridge removes any internal quotes"). Raw even outside quotes:
 *   the guide's CLI note renders `"instance "<instance>" is in <state>"` as `"instance "i-0123456789" is
 *   in RUNNING"`, no quotes added.
 * - JSON template, placeholder outside a string literal: the value as JSON, so strings get their quotes
 *   ([guide] "Simple JSON"; "EventBridge automatically adds quotes to string variable values").
 *   Inside a string literal: a string is inserted raw and unescaped ([guide]: "EventBridge doesn't escape
 *   values extracted by Input Path"); an object or array as JSON, which breaks the template
 *   ([recorded]: `{"payload": "<payload>"}` with an object is never delivered).
 * - A path that does not exist: the variable "isn't created and won't appear in the output" [guide];
 *   recorded, that is an empty text inside a string and `""` in a JSON value position.
 * - A JSON template that does not render to valid JSON is not delivered [recorded]; a JSON template
 *   that does is delivered minified ([guide], earlier revision: "The JSON that is passed to the target
 *   is minified and escaped"; [recorded] bodies carry no template whitespace they could be compared on).
 */

export type TargetInput =
  | { readonly path: string }
  | {
      readonly paths: Readonly<Record<string, string>>;
      readonly template: string;
      /**
       * Placeholders the author vouches for inside a JSON string literal of the template, where
       * EventBridge inserts them unescaped. Only for values no sender can shape (a number the ingest
       * computes, an id the pattern pins down); say why next to the list. Not sent to EventBridge.
       */
      readonly trustedPlaceholders?: readonly string[];
    };

export interface TargetInputContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** ISO 8601, as EventBridge stamps it on receipt. */
  readonly ingestionTime: string;
}

/** The event cannot be delivered with this input (EventBridge drops such a delivery). */
export class UndeliverableInputError extends Error {
  override readonly name = 'UndeliverableInputError';
}

const MAX_PATHS = 100; // [api] TransformerPaths max 100
const MAX_KEY_LENGTH = 256; // [api] InputTransformerPathKey 1..256
const MAX_PATH_LENGTH = 256; // [api] TargetInputPath max 256
const MAX_TEMPLATE_LENGTH = 8192; // [api] TransformerInput 1..8192
const KEY_PATTERN = /^[A-Za-z0-9_-]+$/; // [api] InputTransformerPathKey pattern

const RULE_ARN = 'aws.events.rule-arn';
const RULE_NAME = 'aws.events.rule-name';
const INGESTION_TIME = 'aws.events.event.ingestion-time';
const EVENT = 'aws.events.event';
const EVENT_JSON = 'aws.events.event.json';
/** [guide] "Predefined variables": usable without a path, reserved as names. */
const PREDEFINED: ReadonlySet<string> = new Set([RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON]);

// ---------------------------------------------------------------------------------------------------
// JSONPath subset

type Step = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'index'; readonly index: number } | { readonly kind: 'wildcard' };

/**
 * [guide] "Supported syntax includes: dot notation, dashes, underscores, alphanumeric characters, array
 * indices, wildcards (*), forward slashes". [api] Target.InputPath: "You may use JSON dot notation or
 * bracket notation"; InputPathsMap: "You must use JSON dot notation, not bracket notation" (array
 * indices stay allowed there: the guide's own map uses `$.resources[0]`).
 */
function parsePath(path: string, allowBracketKeys: boolean): readonly Step[] | string {
  if (!path.startsWith('$')) return 'must start with $';
  const steps: Step[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    if (rest.startsWith('.*')) {
      steps.push({ kind: 'wildcard' });
      rest = rest.slice(2);
      continue;
    }
    if (rest.startsWith('.')) {
      const key = /^\.([A-Za-z0-9_\-/]+)/.exec(rest);
      if (!key) return `has an unsupported key at "${rest}"`;
      steps.push({ kind: 'key', key: key[1]! });
      rest = rest.slice(key[0].length);
      continue;
    }
    const bracket = /^\[(\*|\d+|'[^']*'|"[^"]*")\]/.exec(rest);
    if (!bracket) return `has an unsupported segment "${rest}"`;
    const inner = bracket[1]!;
    if (inner === '*') steps.push({ kind: 'wildcard' });
    else if (/^\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
    else if (allowBracketKeys) steps.push({ kind: 'key', key: inner.slice(1, -1) });
    else return 'uses bracket notation for a key (InputPathsMap takes dot notation)';
    rest = rest.slice(bracket[0].length);
  }
  return steps;
}

type Resolved = { readonly found: true; readonly value: unknown } | { readonly found: false };

/**
 * Undocumented: what a wildcard yields. Like Jayway JsonPath (an indefinite path), every match is
 * collected into one array, also when there is a single match or none.
 */
function resolve(root: unknown, steps: readonly Step[]): Resolved {
  let current: unknown[] = [root];
  let indefinite = false;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step.kind === 'wildcard') {
        indefinite = true;
        if (Array.isArray(value)) next.push(...value);
        else if (isObject(value)) next.push(...Object.values(value));
      } else if (step.kind === 'index') {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if (isObject(value) && Object.hasOwn(value, step.key)) {
        next.push(value[step.key]);
      }
    }
    current = next;
  }
  if (indefinite) return { found: true, value: current };
  return current.length === 1 ? { found: true, value: current[0] } : { found: false };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// Template scanning

/** A placeholder is `<name>` with no angle bracket inside (PutTargets checks every one of them). */
const PLACEHOLDER = /^<([^<>]+)>/;

interface Piece {
  readonly text?: string;
  readonly name?: string;
  readonly inString: boolean;
  /** For a placeholder inside a string: whether that string is followed by `:` (an object key). */
  readonly isKey?: boolean;
}

/** Splits a template into literal text and placeholders, tracking JSON string literals. */
function scan(template: string): Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  let inString = false;
  const pending: number[] = []; // placeholders of the current string literal, to mark as keys
  const flush = (): void => {
    if (literal) pieces.push({ text: literal, inString });
    literal = '';
  };
  for (let i = 0; i < template.length; ) {
    const c = template[i]!;
    const placeholder = c === '<' ? PLACEHOLDER.exec(template.slice(i)) : null;
    if (placeholder) {
      flush();
      if (inString) pending.push(pieces.length);
      pieces.push({ name: placeholder[1]!, inString });
      i += placeholder[0].length;
      continue;
    }
    if (inString && c === '\\' && i + 1 < template.length) {
      literal += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') {
      if (!inString) {
        flush();
        inString = true;
        literal = c;
      } else {
        literal += c;
        flush();
        inString = false;
        const isKey = /^\s*:/.test(template.slice(i + 1));
        for (const index of pending.splice(0)) pieces[index] = { ...pieces[index]!, isKey };
      }
      i += 1;
      continue;
    }
    literal += c;
    i += 1;
  }
  flush();
  return pieces;
}

function isJsonTemplate(template: string): boolean {
  return template.trimStart().startsWith('{');
}

// ---------------------------------------------------------------------------------------------------
// Validation

/**
 * The one-line problem of a target input in this project's route table: what EventBridge would
 * reject or never deliver (putTargetsProblem), then a placeholder that could let a sender break or
 * forge the body (injectionProblem). Undefined when the input is both deliverable and safe.
 */
export function validateTargetInput(input: TargetInput): string | undefined {
  return putTargetsProblem(input) ?? injectionProblem(input);
}

/**
 * Predefined variables EventBridge fills with its own scalars (a rule ARN and name of `[.\-_A-Za-z0-9]`,
 * an ISO 8601 time): no quote, backslash or markup can come from a sender, so they are safe in a string.
 * `aws.events.event` and `.json` are objects and break a string ([guide]: "only as a value of a JSON field").
 */
const SCALAR_PREDEFINED: ReadonlySet<string> = new Set([RULE_ARN, RULE_NAME, INGESTION_TIME]);

/**
 * Design decision 18: in a JSON template, a placeholder inside a string literal is inserted unescaped
 * ([guide] "EventBridge doesn't escape values extracted by Input Path"), so a value with `"` makes the
 * body invalid JSON (never delivered, no dead letter) and any text a sender chose lands inside the
 * receiver's markup. In a value position EventBridge inserts escaped JSON. A text template (not
 * starting with `{`) is delivered as text and has no JSON to break, so it is not refused.
 */
function injectionProblem(input: TargetInput): string | undefined {
  if ('path' in input) return undefined;
  const trusted = input.trustedPlaceholders ?? [];
  for (const name of trusted) {
    if (!Object.hasOwn(input.paths, name)) return `trustedPlaceholders names "${name}", which is not in paths`;
  }
  if (!isJsonTemplate(input.template)) return undefined;
  const inStrings = new Set(scan(input.template).flatMap((piece) => (piece.name !== undefined && piece.inString ? [piece.name] : [])));
  for (const name of inStrings) {
    if (SCALAR_PREDEFINED.has(name) || trusted.includes(name)) continue;
    return (
      `input template puts <${name}> inside a JSON string, where EventBridge inserts it unescaped (a " breaks the JSON, markup reaches the receiver): ` +
      `make it a value of its own, "field": <${name}>, or list it in trustedPlaceholders if no sender can shape its values`
    );
  }
  const unused = trusted.find((name) => !inStrings.has(name));
  return unused === undefined ? undefined : `trustedPlaceholders names "${unused}", which the template never puts inside a string: remove it`;
}

/**
 * The one-line problem PutTargets would reject this input for, or that would make every delivery fail;
 * undefined when EventBridge accepts it. The local pipeline checks synthesized targets with it.
 */
export function putTargetsProblem(input: TargetInput): string | undefined {
  if ('path' in input) return pathProblem('input path', input.path, true);
  const keys = Object.keys(input.paths);
  if (keys.length > MAX_PATHS) return `input has ${keys.length} paths, EventBridge allows at most ${MAX_PATHS}`;
  for (const key of keys) {
    // [guide] predefined names are reserved; [api] "The keys cannot start with AWS.". The key pattern
    // already excludes the dot, so the reserved names fail it; say why in words.
    if (PREDEFINED.has(key) || /^aws\./i.test(key)) return `input path name "${key}" is reserved (names starting with aws. are EventBridge's)`;
    if (!KEY_PATTERN.test(key) || key.length > MAX_KEY_LENGTH) return `input path name "${key}" must be 1-${MAX_KEY_LENGTH} letters, digits, _ or -`;
    const problem = pathProblem(`input path "${key}"`, input.paths[key]!, false);
    if (problem) return problem;
  }
  const template = input.template;
  if (template.length < 1 || template.length > MAX_TEMPLATE_LENGTH) return `input template must be 1-${MAX_TEMPLATE_LENGTH} characters, it has ${template.length}`;
  const pieces = scan(template);
  for (const piece of pieces) {
    // [recorded] PutTargets: "InputTemplate for target <id> contains invalid placeholder notdefinedkey."
    if (piece.name !== undefined && !Object.hasOwn(input.paths, piece.name) && !PREDEFINED.has(piece.name)) {
      return `input template uses <${piece.name}>, which is neither in paths nor predefined`;
    }
  }
  if (!isJsonTemplate(template)) return undefined;
  // [api] "If InputTemplate is a JSON object ... The placeholder cannot be used as an object key."
  const key = pieces.find((piece) => piece.name !== undefined && piece.isKey);
  if (key) return `input template uses <${key.name}> as an object key, which a JSON template cannot`;
  // A JSON template that cannot render to JSON is never delivered [recorded]; catch it before deploy.
  const probe = pieces.map((piece) => piece.text ?? (piece.inString ? '' : 'null')).join('');
  try {
    JSON.parse(probe);
  } catch (error) {
    return `input template starts with { but is not JSON once filled: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * [guide] says "There is no validation when creating JSON path for your template": EventBridge accepts
 * a path outside its subset and it then never resolves, so every delivery carries "". Rejecting it here
 * is stricter than PutTargets, on purpose: such a path is always a mistake.
 */
function pathProblem(label: string, path: string, allowBracketKeys: boolean): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `${label} is ${path.length} characters, EventBridge allows at most ${MAX_PATH_LENGTH}`;
  const parsed = parsePath(path, allowBracketKeys);
  return typeof parsed === 'string' ? `${label} "${path}" is not a JSONPath EventBridge evaluates: it ${parsed}` : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Delivery

/**
 * The exact body EventBridge delivers to a target for this event: the event's JSON without input, the
 * selected value's JSON for an InputPath, the rendered template for an InputTransformer.
 * Throws UndeliverableInputError where EventBridge would not deliver.
 */
export function applyTargetInput(event: object, input: TargetInput | undefined, context: TargetInputContext): string {
  if (input === undefined) return JSON.stringify(event);
  if ('path' in input) {
    const steps = parsePath(input.path, true);
    if (typeof steps === 'string') throw new UndeliverableInputError(`input path "${input.path}" ${steps}`);
    const selected = resolve(event, steps);
    // Undocumented: an InputPath that selects nothing. Treated as not deliverable (no value to send).
    if (!selected.found) throw new UndeliverableInputError(`input path "${input.path}" selects nothing in the event`);
    return JSON.stringify(selected.value);
  }
  const variables = new Map<string, Resolved>();
  for (const [name, path] of Object.entries(input.paths)) {
    const steps = parsePath(path, false);
    variables.set(name, typeof steps === 'string' ? { found: false } : resolve(event, steps));
  }
  for (const [name, value] of predefinedVariables(event, context)) variables.set(name, { found: true, value });

  const json = isJsonTemplate(input.template);
  const rendered = scan(input.template)
    .map((piece) => {
      if (piece.text !== undefined) return piece.text;
      const variable = variables.get(piece.name!);
      if (variable === undefined) return `<${piece.name}>`; // validation rejects it; kept as written
      return json ? jsonTemplateValue(variable, piece.inString) : textTemplateValue(variable);
    })
    .join('');
  if (!json) return rendered;
  try {
    return JSON.stringify(JSON.parse(rendered));
  } catch {
    throw new UndeliverableInputError('input template did not render to valid JSON');
  }
}

function jsonTemplateValue(variable: Resolved, inString: boolean): string {
  if (!variable.found) return inString ? '' : '""';
  if (inString && typeof variable.value === 'string') return variable.value;
  return JSON.stringify(variable.value) ?? 'null';
}

function textTemplateValue(variable: Resolved): string {
  if (!variable.found) return '';
  const value = variable.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value).replaceAll('"', '');
  return JSON.stringify(value) ?? 'null';
}

/**
 * [guide] "Predefined variables". `aws.events.event` is "the original event payload as JSON (without
 * the detail field)"; [recorded] shows its shape on delivery: `detail-type` spelled `detailType`, keys
 * in the order id, account, detailType, time, source, region, resources, version, and `time` carrying
 * the ingestion time (LocalStack masks it as such). `aws.events.event.json` is the full event.
 */
function predefinedVariables(event: object, context: TargetInputContext): ReadonlyMap<string, unknown> {
  const full = event as Record<string, unknown>;
  const withoutDetail: Record<string, unknown> = {};
  const order = ['id', 'account', 'detail-type', 'time', 'source', 'region', 'resources', 'version'];
  for (const key of [...order, ...Object.keys(full).filter((key) => !order.includes(key))]) {
    if (key === 'detail' || !Object.hasOwn(full, key)) continue;
    if (key === 'detail-type') withoutDetail.detailType = full[key];
    else if (key === 'time') withoutDetail.time = context.ingestionTime;
    else withoutDetail[key] = full[key];
  }
  return new Map<string, unknown>([
    [RULE_ARN, context.ruleArn],
    [RULE_NAME, context.ruleName],
    [INGESTION_TIME, context.ingestionTime],
    [EVENT, withoutDetail],
    [EVENT_JSON, event],
  ]);
}

/**
 * The HTTP headers of an API destination target (HttpParameters.HeaderParameters): a value that is a
 * JSON path (`$.detail.eventId`) is read from the event, anything else is sent as written. A path the
 * event does not have, or one that reads an object, sends no header: its value could not be a header.
 */
export function headerParameterValues(event: object, parameters: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    if (!value.startsWith('$')) {
      headers[name] = value;
      continue;
    }
    const steps = parsePath(value, false);
    if (typeof steps === 'string') continue;
    const resolved = resolve(event, steps);
    if (resolved.found && ['string', 'number', 'boolean'].includes(typeof resolved.value)) headers[name] = String(resolved.value);
  }
  return headers;
}
