import type { SubmitTicket, TicketView } from '@common/tickets';
import { ElMessage } from 'element-plus';
import { computed, nextTick, reactive, ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { useRouter } from 'vue-router';
import { z } from 'zod';
import { assertApiError, type FieldError } from '../../api/http.ts';
import { submitTicket } from '../../api/tickets.ts';
import { i18n } from '../../locales/index.ts';
import { ROUTE } from '../../router/names.ts';
import { uuid } from '../../utils/uuid.ts';

/** A field path as the API names it (`api/errors.ts` `fieldPath`): `workload.containers[0].image`, `labels.tier`. */
export function fieldPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '');
}

/** zod issues → `{ path: message }`, first message per path, unknown keys named like the API does. */
export function zodErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const base = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out[base ? `${base}.${key}` : key] ??= i18n.global.t('requests.unknownField');
    } else {
      out[base || '(body)'] ??= issue.message;
    }
  }
  return out;
}

let zodLocale: string | undefined;
/** zod's built-in messages follow the portal's language (messages written in the schemas stay as written). */
function syncZodLocale(): void {
  const locale = i18n.global.locale.value;
  if (locale === zodLocale) return;
  zodLocale = locale;
  z.config(locale === 'zh-CN' ? z.locales.zhCN() : z.locales.en());
}

export interface RequestFormOptions {
  /** The same zod schema the API parses the body with (`common/tickets.ts`, `common/workload.ts`). */
  schema: z.ZodType;
  /** The body to send, built from the form model (empty optional fields left out). */
  body: () => SubmitTicket;
  /** Whether the form shows a field of this path beside an input (others are listed above the form). */
  shows: (path: string) => boolean;
  /**
   * The form's own wording of a client error at `path` (a message worded like its inputs); undefined
   * keeps the schema's message.
   */
  message?: (path: string) => string | undefined;
  /** `false`: a valid submit goes straight to the server, without the preview dialog. Default `true`. */
  previewStep?: boolean;
}

/**
 * What every request form shares: client validation with the API's own zod schema (errors beside the
 * field once it was touched or a submit was tried), the server's problem `errors[]` beside the fields they
 * name, a preview step before the submit, and an Idempotency-Key per form fill so a double click or a
 * retry after a lost response never makes two tickets.
 */
export function useRequestForm(options: RequestFormOptions) {
  const { t } = useI18n();
  const router = useRouter();
  const attempted = ref(false);
  const touched = reactive(new Set<string>());
  const server = reactive<Record<string, string>>({});
  const serverOther = ref<FieldError[]>([]);
  const previewOpen = ref(false);
  const submitting = ref(false);
  let idempotencyKey = uuid();

  const client = computed<Record<string, string>>(() => {
    syncZodLocale();
    void i18n.global.locale.value;
    const r = options.schema.safeParse(options.body());
    if (r.success) return {};
    const errors = zodErrors(r.error);
    if (options.message) for (const path of Object.keys(errors)) errors[path] = options.message(path) ?? errors[path]!;
    return errors;
  });
  const valid = computed(() => Object.keys(client.value).length === 0);

  /** Message shown beside the field `path`: the server's, else the client's once touched or tried. */
  function err(path: string): string | undefined {
    if (server[path]) return server[path];
    if (!attempted.value && !touched.has(path)) return undefined;
    return client.value[path];
  }

  /** Errors for fields the form has no input for: shown in an alert above it. */
  const other = computed<FieldError[]>(() => {
    const list = [...serverOther.value];
    if (attempted.value) {
      for (const [field, message] of Object.entries(client.value)) if (!options.shows(field)) list.push({ field, message });
    }
    return list;
  });

  function touch(path: string): void {
    touched.add(path);
    delete server[path];
  }

  function clearServer(): void {
    for (const k of Object.keys(server)) delete server[k];
    serverOther.value = [];
  }

  function showServer(errors: readonly FieldError[]): void {
    clearServer();
    const unmatched: FieldError[] = [];
    for (const e of errors) {
      if (options.shows(e.field)) server[e.field] = server[e.field] ? `${server[e.field]}; ${e.message}` : e.message;
      else unmatched.push(e);
    }
    serverOther.value = unmatched;
  }

  /**
   * Validates; when the body is valid opens the preview (or, without a preview step, submits), else
   * focuses the first field in error.
   */
  async function review(): Promise<boolean> {
    attempted.value = true;
    clearServer();
    if (!valid.value) {
      await nextTick();
      document.querySelector<HTMLElement>('.el-form-item.is-error input, .el-form-item.is-error textarea')?.focus();
      return false;
    }
    if (options.previewStep === false) await submit();
    else previewOpen.value = true;
    return true;
  }

  async function submit(): Promise<TicketView | undefined> {
    if (submitting.value || !valid.value) return undefined;
    submitting.value = true;
    try {
      const ticket = await submitTicket(options.body(), idempotencyKey);
      previewOpen.value = false;
      ElMessage.success(t('newRequest.submitted', { id: ticket.id }));
      await router.push({ name: ROUTE.ticketDetail, params: { id: ticket.id } });
      return ticket;
    } catch (e) {
      assertApiError(e);
      previewOpen.value = false;
      if (e.errors.length > 0) showServer(e.errors);
      // A 4xx means nothing was made: the corrected form is a new fill. Network errors / 5xx keep the key.
      if (e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) idempotencyKey = uuid();
      return undefined;
    } finally {
      submitting.value = false;
    }
  }

  function reset(): void {
    attempted.value = false;
    touched.clear();
    clearServer();
    idempotencyKey = uuid();
  }

  return { attempted, err, other, server, touch, review, submit, reset, previewOpen, submitting, valid, client };
}

/** Drops empty strings, null/undefined, NaN and empty objects, recursively (arrays keep their length). */
export function prune<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => prune(v) as unknown) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p === undefined || p === null || p === '' || (typeof p === 'number' && Number.isNaN(p))) continue;
      if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
      out[k] = p;
    }
    return out as T;
  }
  return value;
}
