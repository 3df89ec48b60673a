import type { PermissionNode } from '@common/permissions';
import type { RoleView } from '@common/tenancy';
import { i18n } from '../../locales/index.ts';

/** A role's display name: built-in roles through i18n, custom roles by their own name; unknown ids as is. */
export function roleLabel(role: RoleView | string, _locale?: string): string {
  if (typeof role === 'string') return role;
  if (role.builtin) return i18n.global.t(`roles.${role.baseRole}`);
  return role.name;
}

/** A permission tree node's label in the current language (the tree carries both). */
export function nodeLabel(node: PermissionNode, locale: string): string {
  return locale === 'zh-CN' ? node.label['zh-CN'] : node.label.en;
}
