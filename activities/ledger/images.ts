import { IMAGE_STORAGE_SAMPLE_ACTIVITY, type ImageStorageSample } from '../../common/image-storage-metering.ts';
import type { LedgerExtractors } from './history.ts';

export const IMAGE_STORAGE_UNITS = { imageStorageGi: 'GiB' } as const;

/**
 * The `image.storage` fact: each completed `measureVdcImageStorage` activity with a sample (a VDC holding
 * bytes) is one line billing its GiB over the sample's interval.
 */
export const IMAGE_STORAGE_EXTRACTORS: LedgerExtractors = {
  [IMAGE_STORAGE_SAMPLE_ACTIVITY]: (result, provenance) => {
    const s = result as ImageStorageSample | null;
    if (!s || s.bytes <= 0) return [];
    return [
      {
        ...provenance,
        fact: 'image.storage',
        vdcId: s.vdcId,
        domainId: s.domainId,
        pool: s.pool,
        subject: `${s.bytes} bytes`,
        quantities: { imageStorageGi: s.imageStorageGi },
        units: { ...IMAGE_STORAGE_UNITS },
        start: new Date(s.start),
        end: new Date(s.end),
      },
    ];
  },
};
