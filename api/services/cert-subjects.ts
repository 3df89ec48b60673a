import type { AuditLog } from '../../common/audit.ts';
import type { CertSubjectBody } from '../../common/identity.ts';
import type { UserStore } from '../../store/users.ts';
import { NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';

/** Binds client-certificate subjects to users: the second factor checked when `EDGEPORT_MTLS_MODE=required`. */
export function certSubjectService(deps: { users: Pick<UserStore, 'setCertSubject'>; audit: AuditLog }) {
  return {
    /** Sets or (with `subject: null`) removes the user's bound subject. @throws NotFoundError for an unknown user. */
    async set(caller: Caller, sub: string, body: CertSubjectBody, ip?: string): Promise<{ sub: string; subject: string | null }> {
      if (!(await deps.users.setCertSubject(sub, body.subject))) throw new NotFoundError('no such user');
      await deps.audit.append({
        actor: { sub: caller.sub, name: caller.name },
        action: body.subject === null ? 'user.cert-subject.unbind' : 'user.cert-subject.bind',
        target: `user:${sub}`,
        outcome: 'success',
        ...(body.subject === null ? {} : { details: { subject: body.subject } }),
        ...(ip ? { ip } : {}),
      });
      return { sub, subject: body.subject };
    },
  };
}
export type CertSubjectService = ReturnType<typeof certSubjectService>;
