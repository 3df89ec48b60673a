import type { TicketTypeEntry } from './types.ts';

/** Promoting a staging image to private or public (requested from the Images page, so no form here). */
export const imagePublish: TicketTypeEntry<'image-publish'> = {
  type: 'image-publish',
  summary: (p) => ({
    kind: 'text',
    text: `${p.source.name}:${p.source.tag} → ${p.target.visibility}${p.target.name ? ` ${p.target.name}` : ''}${p.target.tag ? `:${p.target.tag}` : ''}`,
  }),
};
