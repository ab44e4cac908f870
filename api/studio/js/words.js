// How the page names steps, metrics and events for people (and for the live region).

export function family(role = '') {
  return role.split('.')[0].split('~')[0];
}

// Story steps are named by scene ("Scene 2 picture"); a brief's by deliverable ("image 1", "story 5 video").
export function stepLabel(key = '', story = true) {
  const [base, revision] = key.split('~r');
  const scene = base.match(/^(image|speech)-(\d+)$/);
  let label = base.replace(/^story(\d+)-/, 'story $1 ').replaceAll('-', ' ');
  if (story && scene) label = `Scene ${scene[2]} ${scene[1] === 'image' ? 'picture' : 'narration'}`;
  else if (story && base === 'video') label = 'Story video';
  return revision ? `${label} (revision ${revision})` : label;
}

const METRICS = { clip_score: 'CLIP score', clip_gate: 'CLIP margin over unrelated prompts',
  narration_wer: 'word error rate', caption_score: 'caption similarity', identity_consistency: 'character consistency' };

export const metricName = (metric) => METRICS[metric] || metric.replaceAll('_', ' ');

export function metricValue(metric, value) {
  if (value === null || value === undefined) return '';
  if (metric === 'narration_wer') return `${(100 * value).toFixed(1)} %`;
  return Number(value).toFixed(metric.includes('clip') ? 1 : 3);
}

export function describe(event, story = true) {
  const d = event.data || {};
  switch (event.type) {
    case 'queued': return 'Queued';
    case 'status': return `Status: ${d.status}`;
    case 'resumed': return 'The server restarted; continuing from the last checkpoint';
    case 'awaiting_review': return 'Waiting for your review of the storyboard';
    case 'stage': return `${d.stage === 'revise' ? 'Revising' : 'Planning'}: ${d.detail || ''}`;
    case 'step': return stepText(d, story);
    case 'score': return `Critic: ${metricName(d.metric)} ${metricValue(d.metric, d.value)}, ${d.passed ? 'passed' : 'not passed'}`;
    case 'items': return `${d.total} item${d.total === 1 ? '' : 's'} to describe`;
    case 'item': return `Item ${d.done} of ${d.total}: ${d.name} ${d.status}`;
    case 'detail': return d.text || '';
    case 'succeeded': return 'Finished';
    case 'failed': return `Failed: ${d.error || 'no reason given'}`;
    case 'cancelled': return 'Cancelled';
    case 'declined': return `Declined: ${d.error || 'Storyloom cannot do this'}`;
    default: return event.type;
  }
}

function stepText(d, story) {
  const what = stepLabel(d.step, story);
  if (d.status === 'running') return `${what} started (${d.tool})`;
  if (d.status === 'failed') return `${what} failed: ${d.error || ''}`;
  const notes = [d.cached ? 'from the cache' : null, d.batched > 1 ? `batched ×${d.batched}` : null].filter(Boolean);
  return `${what} done in ${Number(d.duration || 0).toFixed(1)} s${notes.length ? ` (${notes.join(', ')})` : ''}`;
}
