/**
 * Fast.io webhook signatures: signing and verification of both formats (DESIGN.md decision 2).
 *
 * Pure: node:crypto only, no AWS. The ingest function verifies with it and the operator CLI
 * (`npm run -s ops -- sign|send`) signs with it, so both sides always agree on the format.
 *
 * - body-hmac:   `X-Fastio-Signature` (or `Fastio-Signature`): lower-case hex HMAC-SHA256 of the
 *                exact raw body, optionally prefixed `sha256=`.
 * - timestamped: `Fastio-Signature: t=<unix seconds>,v1=<sig>[,v1=<sig>…]`: HMAC-SHA256 of
 *                `<t>.<raw body>`, lower-case hex or standard base64, accepted within ±tolerance.
 *
 * In `auto` mode a body-hmac signature is not accepted for a body shaped like `<digits>.…`, which closes
 * a cross-scheme replay (see `screenSignatures`); pin the scheme once you know which one Fast.io uses.
 *
 * Malformed input of any kind (empty, wrong length, wrong alphabet, absurd size) is a rejection with
 * a reason, never an exception. MACs are compared with `crypto.timingSafeEqual` on equal-length buffers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureScheme = 'body-hmac' | 'timestamped';
export type SignatureSchemeSetting = SignatureScheme | 'auto';
export const SIGNATURE_SCHEME_SETTINGS: readonly SignatureSchemeSetting[] = ['auto', 'body-hmac', 'timestamped'];

export const BODY_HMAC_HEADER = 'X-Fastio-Signature';
export const FASTIO_SIGNATURE_HEADER = 'Fastio-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Why a delivery's signature was not accepted. Every one of them is the same 401 to the sender. */
export type SignatureRejectionReason = 'missing-signature' | 'malformed-signature' | 'bad-signature' | 'stale-timestamp';

/** Header map as API Gateway (HTTP API, payload 2.0) delivers it; names are matched case-insensitively. */
export type HeaderMap = Readonly<Record<string, string | undefined>>;

/** A signature that parsed; `mac` is always exactly 32 bytes. */
export type PresentedSignature =
  | { readonly scheme: 'body-hmac'; readonly mac: Buffer }
  | { readonly scheme: 'timestamped'; readonly mac: Buffer; readonly timestamp: string };

export type ParseResult =
  | { readonly ok: true; readonly signatures: readonly PresentedSignature[] }
  | { readonly ok: false; readonly reason: SignatureRejectionReason };

export type VerifyResult =
  | { readonly ok: true; readonly scheme: SignatureScheme; readonly secretIndex: number }
  | { readonly ok: false; readonly reason: SignatureRejectionReason };

export type SecretInput = string | Uint8Array;

const MAC_BYTES = 32;
/** Longer signature headers are rejected unparsed (a real one is well under 300 characters). */
const MAX_HEADER_CHARS = 4096;
/** At most this many signatures are considered per delivery. */
const MAX_SIGNATURES = 16;
const HEX_MAC = /^[0-9a-f]{64}$/;
const BASE64_MAC = /^[A-Za-z0-9+/]{43}=?$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

function toKey(secret: SecretInput): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
}

export function computeBodyHmac(secret: SecretInput, rawBody: Uint8Array): Buffer {
  return createHmac('sha256', toKey(secret)).update(rawBody).digest();
}

export function computeTimestampedHmac(secret: SecretInput, timestamp: string, rawBody: Uint8Array): Buffer {
  return createHmac('sha256', toKey(secret)).update(`${timestamp}.`, 'utf8').update(rawBody).digest();
}

/** Every value of a header, whatever the case of its name; `undefined` when the header is absent. */
function headerValue(headers: HeaderMap, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === 'string' && key.toLowerCase() === wanted) values.push(value);
  }
  // API Gateway joins duplicated headers with commas; do the same for a map holding both spellings.
  return values.length === 0 ? undefined : values.join(',');
}

/**
 * Decodes one MAC: lower-case hex (64 chars) or standard base64 (44 chars padded, 43 unpadded).
 * Only the canonical spelling is accepted, so two different strings never denote the same MAC.
 */
export function decodeMac(text: string, allowBase64: boolean): Buffer | undefined {
  if (HEX_MAC.test(text)) return Buffer.from(text, 'hex');
  if (allowBase64 && BASE64_MAC.test(text)) {
    const mac = Buffer.from(text, 'base64');
    const canonical = mac.toString('base64');
    if (mac.length === MAC_BYTES && (canonical === text || canonical === `${text}=`)) return mac;
  }
  return undefined;
}

function isTimestampedForm(value: string): boolean {
  return value.split(',').some((item) => /^\s*t\s*=/i.test(item));
}

function parseBodyHmac(value: string): PresentedSignature[] {
  const signatures: PresentedSignature[] = [];
  for (const rawItem of value.split(',')) {
    const item = rawItem.trim().replace(/^sha256=/i, '');
    const mac = decodeMac(item, false);
    if (mac) signatures.push({ scheme: 'body-hmac', mac });
  }
  return signatures;
}

/** `undefined` when the value is not a usable timestamped signature. */
function parseTimestamped(value: string): PresentedSignature[] | undefined {
  const timestamps = new Set<string>();
  const macs: Buffer[] = [];
  for (const rawItem of value.split(',')) {
    const separator = rawItem.indexOf('=');
    if (separator < 0) continue;
    const key = rawItem.slice(0, separator).trim().toLowerCase();
    const itemValue = rawItem.slice(separator + 1).trim();
    if (key === 't') {
      if (!TIMESTAMP.test(itemValue)) return undefined;
      timestamps.add(itemValue);
    } else if (key === 'v1') {
      const mac = decodeMac(itemValue, true);
      if (mac) macs.push(mac);
    }
    // Other keys (a future v2, a v0 test scheme) are ignored, as Stripe-style schemes intend.
  }
  // Exactly one timestamp: duplicated identical headers are fine, two different ones are ambiguous.
  const [timestamp] = [...timestamps];
  if (timestamps.size !== 1 || timestamp === undefined || macs.length === 0) return undefined;
  return macs.map((mac) => ({ scheme: 'timestamped', mac, timestamp }));
}

/**
 * Extracts the presented signatures without any secret. `scheme` pins one format; `auto` accepts
 * whichever the headers carry (a `Fastio-Signature` containing `t=` is the timestamped format).
 */
export function parseSignatureHeaders(headers: HeaderMap, scheme: SignatureSchemeSetting = 'auto'): ParseResult {
  const bodyHeader = scheme === 'timestamped' ? undefined : headerValue(headers, BODY_HMAC_HEADER);
  const fastioHeader = headerValue(headers, FASTIO_SIGNATURE_HEADER);
  if (bodyHeader === undefined && fastioHeader === undefined) return { ok: false, reason: 'missing-signature' };
  if ((bodyHeader?.length ?? 0) + (fastioHeader?.length ?? 0) > MAX_HEADER_CHARS) return { ok: false, reason: 'malformed-signature' };

  const signatures: PresentedSignature[] = [];
  if (bodyHeader !== undefined) signatures.push(...parseBodyHmac(bodyHeader));
  if (fastioHeader !== undefined) {
    if (isTimestampedForm(fastioHeader)) {
      if (scheme !== 'body-hmac') signatures.push(...(parseTimestamped(fastioHeader) ?? []));
    } else if (scheme !== 'timestamped') {
      signatures.push(...parseBodyHmac(fastioHeader));
    }
  }
  // A header was present but held nothing usable: empty, wrong length or alphabet, or the other scheme.
  if (signatures.length === 0) return { ok: false, reason: 'malformed-signature' };
  if (signatures.length > MAX_SIGNATURES) return { ok: false, reason: 'malformed-signature' };
  return { ok: true, signatures };
}

/**
 * A body of the form `<digits>.<rest>` is exactly what a timestamped MAC covers, so in `auto` mode a
 * captured `t=…,v1=<mac>` could be replayed as `X-Fastio-Signature: <mac>` over the body `<t>.<original>`,
 * bypassing the time window. Such a body is never a JSON object, so body-hmac signatures are not
 * accepted for it when both schemes are enabled.
 */
const TIMESTAMPED_INPUT_SHAPE = /^[0-9]{1,12}\./;

function looksLikeTimestampedInput(rawBody: Uint8Array): boolean {
  return TIMESTAMPED_INPUT_SHAPE.test(Buffer.from(rawBody.subarray(0, 14)).toString('latin1'));
}

export interface ScreenInput {
  readonly signatures: readonly PresentedSignature[];
  readonly rawBody: Uint8Array;
  readonly scheme: SignatureSchemeSetting;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

/**
 * The checks that need no secret, after parsing: drops timestamped signatures outside ±tolerance of
 * `nowSeconds` (both directions) and, in `auto` mode, body-hmac signatures over a body shaped like a
 * timestamped MAC input (see above). Nothing left: `stale-timestamp` if the window removed the last
 * signature, else `bad-signature`.
 */
export function screenSignatures(input: ScreenInput): ParseResult {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const crossSchemeRisk = input.scheme === 'auto' && looksLikeTimestampedInput(input.rawBody);
  const usable = input.signatures.filter((signature) => signature.scheme === 'timestamped' || !crossSchemeRisk);
  const fresh = usable.filter(
    (signature) => signature.scheme === 'body-hmac' || Math.abs(input.nowSeconds - Number(signature.timestamp)) <= tolerance,
  );
  if (fresh.length > 0) return { ok: true, signatures: fresh };
  return { ok: false, reason: usable.length > 0 ? 'stale-timestamp' : 'bad-signature' };
}

/** True when any presented signature is the MAC of `rawBody` under `secret`. Constant-time per comparison. */
export function matchesSecret(signatures: readonly PresentedSignature[], rawBody: Uint8Array, secret: SecretInput): boolean {
  const key = toKey(secret);
  if (key.length === 0) return false;
  let bodyMac: Buffer | undefined;
  const timestampedMacs = new Map<string, Buffer>();
  let matched = false;
  for (const signature of signatures) {
    let expected: Buffer;
    if (signature.scheme === 'body-hmac') {
      bodyMac ??= computeBodyHmac(key, rawBody);
      expected = bodyMac;
    } else {
      expected = timestampedMacs.get(signature.timestamp) ?? computeTimestampedHmac(key, signature.timestamp, rawBody);
      timestampedMacs.set(signature.timestamp, expected);
    }
    // Both are 32 bytes by construction; the length check keeps timingSafeEqual from ever throwing.
    if (expected.length === signature.mac.length && timingSafeEqual(expected, signature.mac)) matched = true;
  }
  return matched;
}

export interface VerifyInput {
  readonly headers: HeaderMap;
  readonly rawBody: Uint8Array;
  /** Tried in order (e.g. current, then previous); empty secrets never match. */
  readonly secrets: readonly SecretInput[];
  readonly scheme?: SignatureSchemeSetting;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

/** Parse, check the time window, then try each secret. Never throws for any header or body. */
export function verifySignature(input: VerifyInput): VerifyResult {
  const scheme = input.scheme ?? 'auto';
  const parsed = parseSignatureHeaders(input.headers, scheme);
  if (!parsed.ok) return parsed;
  const fresh = screenSignatures({ ...input, signatures: parsed.signatures, scheme });
  if (!fresh.ok) return fresh;
  for (const [secretIndex, secret] of input.secrets.entries()) {
    for (const signature of fresh.signatures) {
      if (matchesSecret([signature], input.rawBody, secret)) return { ok: true, scheme: signature.scheme, secretIndex };
    }
  }
  return { ok: false, reason: 'bad-signature' };
}

export interface SignInput {
  readonly rawBody: Uint8Array;
  readonly secret: SecretInput;
  readonly scheme: SignatureScheme;
  /** Unix seconds for the timestamped scheme; defaults to now. */
  readonly timestamp?: number;
  /** Encoding of the timestamped `v1` value (body-hmac is always hex). */
  readonly encoding?: 'hex' | 'base64';
}

/** The signature header Fast.io would send for this body, as `{ name: value }`. */
export function signWebhook(input: SignInput): Record<string, string> {
  if (toKey(input.secret).length === 0) throw new Error('the signing secret is empty');
  if (input.scheme === 'body-hmac') {
    return { [BODY_HMAC_HEADER]: computeBodyHmac(input.secret, input.rawBody).toString('hex') };
  }
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`invalid timestamp ${timestamp}`);
  const t = String(timestamp);
  const mac = computeTimestampedHmac(input.secret, t, input.rawBody).toString(input.encoding ?? 'hex');
  return { [FASTIO_SIGNATURE_HEADER]: `t=${t},v1=${mac}` };
}
