/**
 * `sign` and `send`: build the request Fast.io would send for a payload file, signed with the
 * webhook secret, and print its headers or POST it to an endpoint. Uses the same signature module
 * as the ingest function, so what verifies here verifies there. `send` gives each send a fresh
 * Fast.io event id (`--keep-id` sends the file's bytes as they are).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { localArchivedEvent, localSendTarget } from '../local/control-client';
import { QUARANTINE_DETAIL_TYPE } from '../domain/fastio-envelope';
import { signWebhook, type SignatureScheme } from '../domain/webhook-signature';
import { OperationFailed, UsageError, refuseOptions, stringOption, type CommandIo, type OpsCommand, type OptionValues } from './command';

export const SECRET_ENV_VAR = 'FASTIO_WEBHOOK_SECRET';
const SEND_TIMEOUT_MS = 30_000;
/** Responses longer than this are cut in the printout. */
const MAX_PRINTED_BODY = 4096;

interface SignedRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

const signOptions = {
  secret: { type: 'string' },
  scheme: { type: 'string' },
  timestamp: { type: 'string' },
  encoding: { type: 'string' },
} as const;

function schemeOption(options: OptionValues): SignatureScheme {
  const scheme = stringOption(options, 'scheme') ?? 'body-hmac';
  if (scheme !== 'body-hmac' && scheme !== 'timestamped') {
    throw new UsageError(`--scheme must be body-hmac or timestamped, got "${scheme}"`);
  }
  return scheme;
}

function encodingOption(options: OptionValues): 'hex' | 'base64' {
  const encoding = stringOption(options, 'encoding') ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') throw new UsageError(`--encoding must be hex or base64, got "${encoding}"`);
  return encoding;
}

function timestampOption(options: OptionValues): number | undefined {
  const raw = stringOption(options, 'timestamp');
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,12}$/.test(raw)) throw new UsageError(`--timestamp must be Unix seconds, got "${raw}"`);
  return Number(raw);
}

function secretOption(options: OptionValues): string {
  const secret = stringOption(options, 'secret') ?? process.env[SECRET_ENV_VAR];
  if (secret === undefined || secret === '') throw new UsageError(`no webhook secret: pass --secret or set ${SECRET_ENV_VAR}`);
  return secret;
}

async function readPayload(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(`cannot read payload file ${path} (${code})`);
  }
}

/** The id the ingest answered with (its 202 body), which is the id it published. */
function fastioEventIdOf(answer: string): string | undefined {
  try {
    const id = (JSON.parse(answer) as { fastioEventId?: unknown }).fastioEventId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function signedRequest(positionals: readonly string[], options: OptionValues, freshId = false): Promise<SignedRequest> {
  const scheme = schemeOption(options);
  // The body-hmac scheme signs the body alone and always in hex: both options would be ignored.
  if (scheme !== 'timestamped') refuseOptions(options, ['timestamp', 'encoding'], `--scheme ${scheme}`, 'only the timestamped scheme signs a timestamp and lets you choose the encoding; add --scheme timestamped');
  const encoding = encodingOption(options);
  const timestamp = timestampOption(options);
  const secret = secretOption(options);
  const file = await readPayload(positionals[0] ?? '');
  const body = freshId ? withFreshEventId(file).body : file;
  const signature = signWebhook({ rawBody: body, secret, scheme, encoding, ...(timestamp === undefined ? {} : { timestamp }) });
  return { body, headers: { 'Content-Type': 'application/json', ...signature } };
}

export const signCommand: OpsCommand = {
  path: ['sign'],
  summary: 'print the headers Fast.io would send for a payload file',
  usage: '<payload.json> [--secret <s>] [--scheme body-hmac|timestamped] [--encoding hex|base64] [--timestamp <unix>] [--json]',
  options: { ...signOptions, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, options, io }) {
    const { headers } = await signedRequest(positionals, options);
    if (options.json === true) io.out(JSON.stringify(headers, null, 2));
    else for (const [name, value] of Object.entries(headers)) io.out(`${name}: ${value}`);
    return 0;
  },
};

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a valid URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http or https, got "${url.protocol}"`);
  return url;
}

function printResponse(io: CommandIo, status: number, statusText: string, body: string, json: boolean): void {
  if (json) {
    let parsed: unknown = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // not JSON: kept as text
    }
    io.out(JSON.stringify({ status, body: parsed }, null, 2));
    return;
  }
  io.out(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
  if (body !== '') io.out(body.length > MAX_PRINTED_BODY ? `${body.slice(0, MAX_PRINTED_BODY)}… (${body.length} characters)` : body);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-shaped id (`evt_` + 26 characters, time first, so ids sort by send time). */
export function freshEventId(now: number = Date.now()): string {
  let time = '';
  for (let rest = now, i = 0; i < 10; i += 1, rest = Math.floor(rest / 32)) time = (CROCKFORD[rest % 32] as string) + time;
  const random = [...randomBytes(16)].map((byte) => CROCKFORD[byte % 32] as string).join('');
  return `evt_${time}${random}`;
}

/**
 * The payload with a fresh Fast.io event id in the field the ingest reads it from (`event_id`, else
 * `id`, else a new `event_id`), so a sample sent twice is two events, not a Fast.io resend of one
 * (the quick start and the incident drill send the same files). A body that is not a JSON object is
 * sent as it is: it has no id field to replace, and the ingest quarantines it under its sha256.
 */
export function withFreshEventId(body: Buffer, id: string = freshEventId()): { body: Buffer; eventId?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { body };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { body };
  const payload = parsed as Record<string, unknown>;
  const field = Object.hasOwn(payload, 'event_id') || !Object.hasOwn(payload, 'id') ? 'event_id' : 'id';
  return { body: Buffer.from(`${JSON.stringify({ ...payload, [field]: id }, null, 2)}\n`), eventId: id };
}

/** What the local pipeline did with a delivery, from its answer and the event its bus archived. */
export interface LocalOutcome {
  readonly outcome: 'accepted' | 'quarantined' | 'duplicate' | 'unconfirmed';
  readonly eventBridgeEventId?: string;
  readonly detailType?: string;
  readonly reason?: string;
}

async function localOutcome(answer: string): Promise<LocalOutcome> {
  let body: { eventBridgeEventId?: unknown; duplicate?: unknown };
  try {
    body = JSON.parse(answer) as typeof body;
  } catch {
    return { outcome: 'unconfirmed', reason: 'the answer is not JSON' };
  }
  const id = typeof body.eventBridgeEventId === 'string' ? body.eventBridgeEventId : undefined;
  if (body.duplicate === true) return { outcome: 'duplicate', ...(id === undefined ? {} : { eventBridgeEventId: id }), reason: 'a resend of an event already published: not published again' };
  if (id === undefined) return { outcome: 'unconfirmed', reason: 'the answer names no published event' };
  const record = await localArchivedEvent(id);
  if (record === undefined) return { outcome: 'unconfirmed', eventBridgeEventId: id, reason: 'the local archive has no record of the event' };
  const detailType = record.event['detail-type'];
  const detail = record.event.detail as { reason?: unknown } | null;
  if (detailType === QUARANTINE_DETAIL_TYPE) {
    return { outcome: 'quarantined', eventBridgeEventId: id, detailType, reason: typeof detail?.reason === 'string' ? detail.reason : 'unknown' };
  }
  return { outcome: 'accepted', eventBridgeEventId: id, detailType };
}

function describeOutcome(result: LocalOutcome): string {
  switch (result.outcome) {
    case 'accepted':
      return `local pipeline: accepted, published as ${result.detailType} event ${result.eventBridgeEventId}`;
    case 'quarantined':
      return `local pipeline: quarantined (${result.reason}): authentic but not a usable Fast.io event, published as ${result.detailType} event ${result.eventBridgeEventId} instead of its event type`;
    case 'duplicate':
      return `local pipeline: duplicate, ${result.reason}${result.eventBridgeEventId === undefined ? '' : ` (event ${result.eventBridgeEventId})`}`;
    case 'unconfirmed':
      return `local pipeline: unconfirmed: ${result.reason}`;
  }
}

export const sendCommand: OpsCommand = {
  path: ['send'],
  summary: 'sign a payload file as Fast.io would and POST it to an endpoint (--local: to the pipeline `npm start` runs, with its secret)',
  usage: '<payload.json> (--url <endpoint> | --local) [--keep-id] [--print-id] [--secret <s>] [--scheme body-hmac|timestamped] [--encoding hex|base64] [--timestamp <unix>] [--json]',
  options: { ...signOptions, url: { type: 'string' }, local: { type: 'boolean' }, 'keep-id': { type: 'boolean' }, 'print-id': { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, options, io }) {
    let rawUrl = stringOption(options, 'url');
    let signingOptions = options;
    if (options.local === true) {
      if (rawUrl !== undefined) throw new UsageError('--url and --local are two destinations: give one (--local posts to the pipeline `npm start` runs)');
      // The local pipeline's webhook URL (.local/pipeline.json) and signing secret (.local/signing-secret).
      const local = localSendTarget();
      rawUrl = local.webhookUrl;
      signingOptions = { ...options, secret: stringOption(options, 'secret') ?? local.secret };
    }
    if (rawUrl === undefined || rawUrl === '') throw new UsageError('--url is required (or --local for the pipeline `npm start` runs)');
    const url = parseUrl(rawUrl);
    if (options['print-id'] === true && options.json === true) throw new UsageError('--print-id and --json are two outputs: give one');
    const { body, headers } = await signedRequest(positionals, signingOptions, options['keep-id'] !== true);
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new OperationFailed(`could not reach ${url.origin}: ${cause}`);
    }
    const answer = await response.text();
    if (options['print-id'] === true) {
      // Only the id on stdout, for `ID=$(npm run --silent ops -- send … --print-id)`; the answer goes to stderr.
      printResponse({ ...io, out: io.err }, response.status, response.statusText, answer, false);
      if (!response.ok) throw new OperationFailed(`the endpoint answered ${response.status}`);
      const id = fastioEventIdOf(answer);
      if (id === undefined) throw new OperationFailed('the endpoint answered without a fastioEventId: is it the ingest?');
      io.out(id);
      return 0;
    }
    if (options.local === true) {
      if (!response.ok) {
        const why = response.status >= 500 ? 'could not take it now (Fast.io would retry)' : 'rejected it (nothing was published)';
        const said = answer.length > MAX_PRINTED_BODY ? `${answer.slice(0, MAX_PRINTED_BODY)}…` : answer;
        throw new OperationFailed(`the local pipeline ${why}: HTTP ${response.status} ${said.replace(/\s+/g, ' ')}; its terminal shows why`);
      }
      const outcome = await localOutcome(answer);
      if (options.json === true) {
        let parsed: unknown = answer;
        try {
          parsed = JSON.parse(answer);
        } catch {
          // not JSON: kept as text
        }
        io.out(JSON.stringify({ status: response.status, body: parsed, ...outcome }, null, 2));
      } else {
        printResponse(io, response.status, response.statusText, answer, false);
        io.out(describeOutcome(outcome));
      }
      return 0;
    }
    printResponse(io, response.status, response.statusText, answer, options.json === true);
    if (!response.ok) throw new OperationFailed(`the endpoint answered ${response.status}`);
    return 0;
  },
};
