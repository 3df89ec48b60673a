import { createHash } from 'node:crypto';
import PDFDocument from 'pdfkit';
import type { Report } from './billing-report.ts';

/** Largest report rendered as PDF (invoice lines or showback rows); bigger ones are for CSV. */
export const PDF_MAX_ROWS = 20_000;

/** Rows of a report that the PDF would print. */
export const pdfRowCount = (r: Report): number => (r.kind === 'chargeback' ? r.invoices.reduce((n, i) => n + i.lines.length, 0) : r.rows.length);

/** SHA-256 of the report's JSON: names the content and seeds the PDF file id. */
export const reportHash = (r: Report): string => createHash('sha256').update(JSON.stringify(r)).digest('hex');

const scopeText = (r: Report): string => {
  const s = r.scope;
  if (s.kind === 'platform') return 'platform';
  if (s.kind === 'label') return `label ${s.key}=${s.value}`;
  return `${s.kind} ${s.id}`;
};

const MARGIN = 40;
const COLS = [
  { key: 'resource', x: 40, w: 70 },
  { key: 'period', x: 110, w: 150 },
  { key: 'quantity', x: 260, w: 60, right: true },
  { key: 'usage', x: 320, w: 90, right: true },
  { key: 'unitPrice', x: 410, w: 60, right: true },
  { key: 'amount', x: 470, w: 85, right: true },
] as const;

/**
 * Renders a showback or chargeback (invoice per VDC) as a PDF with pdfkit and the standard Helvetica font
 * (nothing embedded). Deterministic: the creation date is the report's `asOf`, and the file id (which
 * pdfkit derives from the info dictionary) is seeded by the SHA-256 of the report content, so the same
 * ledger and price book give the same bytes. Resolves with the whole file.
 */
export function renderReportPdf(r: Report): Promise<Buffer> {
  const hash = reportHash(r);
  const title = `Edgeport ${r.kind === 'chargeback' ? 'chargeback invoice' : 'showback'} - ${scopeText(r)}`;
  const asOf = new Date(r.asOf);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: true,
    info: {
      Title: title,
      Author: 'Edgeport',
      Subject: `${r.period.from} - ${r.period.to}`,
      Keywords: `sha256:${hash}`,
      Creator: 'Edgeport billing',
      Producer: 'Edgeport billing',
      CreationDate: asOf,
      ModDate: asOf,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const bottom = doc.page.height - MARGIN - 20;
  let y = MARGIN;
  const ensure = (h: number): void => {
    if (y + h > bottom) {
      doc.addPage();
      y = MARGIN;
    }
  };
  const text = (s: string, x: number, w: number, opts: { right?: boolean; bold?: boolean; size?: number } = {}): void => {
    doc
      .font(opts.bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(opts.size ?? 8)
      .text(s, x, y, { width: w, align: opts.right ? 'right' : 'left', lineBreak: false });
  };
  const row = (cells: Record<(typeof COLS)[number]['key'], string>, bold = false): void => {
    ensure(12);
    for (const c of COLS) text(cells[c.key], c.x, c.w, { right: 'right' in c && c.right, bold });
    y += 12;
  };
  const line = (s: string, opts: { bold?: boolean; size?: number } = {}): void => {
    const size = opts.size ?? 9;
    ensure(size + 5);
    text(s, MARGIN, 515, opts);
    y += size + 5;
  };

  line(title, { bold: true, size: 14 });
  line(`Period: ${r.period.from} to ${r.period.to} (exclusive)   As of: ${r.asOf}`);
  line(`Price book versions: ${r.priceBookVersions.length > 0 ? r.priceBookVersions.join(', ') : 'none'}   Rounding: ${r.rounding}`, { size: 7 });
  line(`Content SHA-256: ${hash}`, { size: 7 });
  y += 6;

  const header = { resource: 'Resource', period: 'From - to (UTC)', quantity: 'Quantity', usage: 'Usage', unitPrice: 'Unit price', amount: 'Amount' };
  const span = (from: string, to: string): string => `${from.slice(0, 16).replace('T', ' ')} - ${to.slice(0, 16).replace('T', ' ')}`;
  if (r.kind === 'chargeback') {
    for (const inv of r.invoices) {
      ensure(40);
      line(`Invoice: VDC ${inv.vdcId} (domain ${inv.domainId})`, { bold: true, size: 11 });
      row(header, true);
      for (const l of inv.lines) {
        row({
          resource: `${l.resource} ${l.pool}`,
          period: span(l.from, l.to),
          quantity: l.quantity,
          usage: `${l.usage} ${l.unit}`,
          unitPrice: l.unitPrice ?? 'unpriced',
          amount: `${l.amount} ${l.currency ?? ''}`.trim(),
        });
      }
      for (const [c, a] of Object.entries(inv.totals))
        row({ resource: 'VDC total', period: '', quantity: '', usage: '', unitPrice: '', amount: `${a} ${c}` }, true);
      y += 8;
    }
  } else {
    row({ ...header, resource: 'VDC / resource', period: 'Pool' }, true);
    for (const s of r.rows)
      row({
        resource: `${s.vdcId} ${s.resource}`,
        period: s.pool,
        quantity: '',
        usage: `${s.usage} ${s.unit}`,
        unitPrice: '',
        amount: `${s.amount} ${s.currency ?? ''}`.trim(),
      });
    y += 8;
  }
  for (const [c, a] of Object.entries(r.totals)) line(`Total ${c}: ${a}`, { bold: true, size: 11 });
  for (const e of r.errors ?? []) line(`Not priced (in no total): ledger line ${e.ledgerLineId} of VDC ${e.vdcId}: ${e.reason}`, { size: 9 });
  for (const v of r.voided ?? []) line(`Voided: ledger line ${v.ledgerLineId} of VDC ${v.vdcId} by ${v.by} at ${v.at}: ${v.reason}`, { size: 9 });
  doc.end();
  return done;
}
