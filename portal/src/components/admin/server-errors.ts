import { reactive, ref } from 'vue';
import type { FieldError } from '../../api/http.ts';

/**
 * Server field errors (problem `errors[]`) mapped onto form props named like the server's field paths;
 * errors for fields the form does not have are listed apart (shown in an alert above the form).
 */
export function useServerErrors<F extends string>(match: (field: string) => F | undefined) {
  const byField = reactive<Partial<Record<F, string>>>({}) as Partial<Record<F, string>>;
  const other = ref<FieldError[]>([]);

  function clear(field?: F): void {
    if (field) {
      delete byField[field];
      return;
    }
    for (const k of Object.keys(byField) as F[]) delete byField[k];
    other.value = [];
  }

  function show(errors: readonly FieldError[]): void {
    clear();
    const unmatched: FieldError[] = [];
    for (const e of errors) {
      const f = match(e.field);
      if (f) byField[f] = byField[f] ? `${byField[f]}; ${e.message}` : e.message;
      else unmatched.push(e);
    }
    other.value = unmatched;
  }

  return { byField, other, clear, show };
}

/** Same DNS-label rule as the API's ids (`common/tenancy.ts`, `common/pools.ts`). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
