/** One label row of a key/value editor. */
export interface KeyValueRow {
  key: string;
  value: string;
}

/** One line of the human summary a form shows in its preview before the submit. */
export interface SummaryRow {
  label: string;
  value: string;
}
