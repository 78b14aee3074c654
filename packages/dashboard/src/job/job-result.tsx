import type { Job } from '@conveyor/contracts';
import { useEffect, useState } from 'preact/hooks';
import { apiFetch, messageOf } from '../api/api-client.js';
import { pretty } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';

/**
 * The result as JSON, and for an image job the image itself: fetched with the key (an <img src>
 * cannot send the Authorization header) and shown from an object URL.
 */
export function JobResult({ job }: { job: Job }) {
  const showsImage = job.kind === 'image-resize' && job.status === 'succeeded' && !job.expired;
  const [imageUrl, setImageUrl] = useState<string | null>(null);
  const [imageError, setImageError] = useState<string | null>(null);

  useEffect(() => {
    if (!showsImage) return undefined;
    let objectUrl: string | null = null;
    let current = true;
    apiFetch('GET', `/v1/jobs/${job.id}/result`)
      .then((response) => response.blob())
      .then(
        (blob) => {
          if (!current) return;
          objectUrl = URL.createObjectURL(blob);
          setImageUrl(objectUrl);
        },
        (error: unknown) => current && setImageError(messageOf(error)),
      );
    return () => {
      current = false;
      if (objectUrl !== null) URL.revokeObjectURL(objectUrl);
    };
  }, [job.id, showsImage]);

  if (job.expired) return <p class="muted">The result expired at {job.expiresAt} and was dropped.</p>;
  return (
    <>
      {imageUrl !== null && <img class="result-image" src={imageUrl} alt={`Result of job ${job.id}`} />}
      <ErrorNote error={imageError} />
      {job.result === null ? (
        <p class="muted">No result yet.</p>
      ) : (
        <pre class="json">{pretty(job.result)}</pre>
      )}
    </>
  );
}
