/** RFC 9457 problem body every API error is returned as. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
  /** On 503: the dependency that is down (mongodb, redis, temporal, oidc). */
  dependency?: string;
}
