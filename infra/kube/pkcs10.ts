import { sign, type KeyObject } from 'node:crypto';

/**
 * Just enough PKCS#10 (RFC 2986) for node join: read the subject of a CertificateSigningRequest a joining
 * kubelet sent (the worker approves by its CN and O), and build one as a kubelet does (the join tests act
 * as the kubelet). DER only; no extensions or attributes. Node's crypto has no CSR support and no ASN.1
 * package is installed.
 */

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

interface Tlv {
  tag: number;
  /** The value bytes. */
  value: Buffer;
  /** The whole element (tag, length and value). */
  raw: Buffer;
}

/** Reads one DER element at `offset`. @throws Error on a truncated or indefinite-length element */
function readTlv(buf: Buffer, offset = 0): Tlv & { next: number } {
  if (offset + 2 > buf.length) throw new Error('truncated DER element');
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new Error('truncated DER element');
  return { tag, value: buf.subarray(offset + head, end), raw: buf.subarray(offset, end), next: end };
}

function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length;) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.next;
  }
  return out;
}

function decodeOid(value: Buffer): string {
  const parts = [Math.floor(value[0]! / 40), value[0]! % 40];
  let n = 0;
  for (const b of value.subarray(1)) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag: number, ...content: Buffer[]): Buffer => {
  const value = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
};

function encodeOid(oid: string): Buffer {
  const [a, b, ...rest] = oid.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const groups: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      groups.unshift(v & 0x7f);
      if (v < 128) break;
    }
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return der(0x06, Buffer.from(bytes));
}

/** Subject of a CSR: its common name and organizations (the groups a client certificate carries). */
export interface CsrSubject {
  commonName?: string;
  organizations: string[];
}

const pemBody = (pem: string): Buffer => {
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(pem);
  if (!m) throw new Error('not a PEM certificate request');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
};

/**
 * The subject of a PEM CSR (as `spec.request` of a CertificateSigningRequest holds it, base64-decoded).
 * @throws Error when it is not a well-formed PKCS#10 request
 */
export function parseCsrSubject(pem: string): CsrSubject {
  const csr = readTlv(pemBody(pem));
  const info = children(csr.value)[0];
  if (csr.tag !== 0x30 || info?.tag !== 0x30) throw new Error('not a PKCS#10 certificate request');
  const subject = children(info.value)[1];
  if (subject?.tag !== 0x30) throw new Error('certificate request without a subject');
  const out: CsrSubject = { organizations: [] };
  for (const rdn of children(subject.value)) {
    for (const atv of children(rdn.value)) {
      const [oid, val] = children(atv.value);
      if (!oid || !val || oid.tag !== 0x06) continue;
      const text = val.value.toString('utf8');
      const type = decodeOid(oid.value);
      if (type === OID.commonName) out.commonName = text;
      else if (type === OID.organization) out.organizations.push(text);
    }
  }
  return out;
}

/**
 * A PEM PKCS#10 request for `subject`, signed with an EC P-256 key (ECDSA with SHA-256), as the kubelet
 * sends for its client certificate: subject O=<organizations>, CN=<commonName>, no attributes.
 */
export function buildCsr(subject: { commonName: string; organizations: string[] }, privateKey: KeyObject, publicKey: KeyObject): string {
  const atv = (oid: string, text: string): Buffer => der(0x31, der(0x30, encodeOid(oid), der(0x0c, Buffer.from(text, 'utf8'))));
  const name = der(0x30, ...subject.organizations.map((o) => atv(OID.organization, o)), atv(OID.commonName, subject.commonName));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = der(0x30, der(0x02, Buffer.from([0])), name, spki, der(0xa0));
  const signature = sign('sha256', info, privateKey);
  const csr = der(0x30, info, der(0x30, encodeOid(OID.ecdsaWithSha256)), der(0x03, Buffer.from([0]), signature));
  const b64 = csr.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE REQUEST-----\n`;
}
