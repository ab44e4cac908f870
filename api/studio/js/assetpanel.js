// The asset panel (a modal dialog): what an asset is, how it was made (model, seed, step, lineage),
// its scores with the critic's reasons, its revision rounds and the other candidates of its step.
import { assetURL, call } from './api.js';
import { $, badge, h, notify, replace, seconds, when } from './dom.js';
import { family, metricName, metricValue, stepLabel } from './words.js';

function dialog() {
  let el = $('#asset-panel');
  if (!el) {
    el = h('dialog', { id: 'asset-panel', 'aria-labelledby': 'asset-panel-title' });
    el.addEventListener('click', (event) => { if (event.target === el) el.close(); }); // a click on the backdrop
    $('#main').append(el);
  }
  return el;
}

export async function openAsset(assetId, run) {
  if (!assetId) return;
  let asset;
  try {
    asset = await call(`/v1/assets/${encodeURIComponent(assetId)}`);
  } catch (err) {
    notify(err.message);
    return;
  }
  const panel = dialog();
  replace(panel, ...content(asset, run));
  if (!panel.open) panel.showModal();
  panel.querySelector('h2').focus();
  const holder = panel.querySelector('.preview');
  if (holder) replace(holder, await mediaOf(asset).catch((err) => err.message));
}

function content(asset, run) {
  const step = asset.lineage.step || family(asset.role || '');
  const rounds = run?.steps?.find((s) => s.key === family(step))?.rounds ?? 0;
  const facts = [
    ['What', `${asset.kind} (${asset.mime}), ${(asset.size / 1024).toFixed(1)} KB`],
    ['Size', asset.width ? `${asset.width} × ${asset.height} px` : seconds(asset.duration)],
    ['Intent', asset.intent],
    ['Step', `${stepLabel(step)} (${asset.lineage.tool || 'no tool'})`],
    ['Model', [asset.lineage.model_id, asset.lineage.model_revision].filter(Boolean).join(' @ ')],
    ['Seed', asset.lineage.seed],
    ['Revision rounds', rounds],
    ['Made', when(asset.created_at)],
    ['Reused from', asset.lineage.cached_from],
    ['SHA-256', asset.sha256],
  ].filter(([, value]) => value !== null && value !== undefined && value !== '');
  return [
    h('h2', { id: 'asset-panel-title', tabindex: '-1' }, stepLabel(step)),
    h('div', { class: 'preview' }, 'Loading…'),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    h('h3', {}, 'Scores'), scores(asset),
    h('h3', {}, 'Lineage'), lineage(asset, run),
    h('h3', {}, 'Other candidates'), candidates(asset, run),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, 'Close')),
  ];
}

function scores(asset) {
  if (!asset.scores.length) return h('p', { class: 'hint' }, 'Not scored.');
  const rows = asset.scores.map((sc) => {
    const d = sc.details || {};
    const verdict = 'passed' in d ? (d.passed ? badge('passed') : badge('not-passed', 'not passed')) : '';
    return h('tr', {}, h('th', { scope: 'row' }, metricName(sc.metric)), h('td', {}, metricValue(sc.metric, sc.value)),
      h('td', {}, verdict, ' ', (d.reasons || []).join('; ')), h('td', {}, sc.model_id || ''));
  });
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Metric', 'Value', 'Verdict', 'Model'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

function lineage(asset, run) {
  const items = [];
  for (const [label, ids] of [['Revises', asset.lineage.parents], ['Made from', asset.lineage.inputs]]) {
    for (const id of ids || []) items.push(h('li', {}, `${label} `, link(id, run)));
  }
  return items.length ? h('ul', {}, items) : h('p', { class: 'hint' }, 'Made from the request alone.');
}

function candidates(asset, run) {
  const mine = family(asset.role || '');
  const others = (run?.assets || []).filter((a) => a.id !== asset.id && a.kind === asset.kind && family(a.role || '') === mine);
  if (!others.length) return h('p', { class: 'hint' }, 'None: the first result was kept.');
  return h('ul', {}, others.map((a) => h('li', {}, link(a.id, run, stepLabel(a.role.split('.')[0])), ' ',
    a.selected ? badge('succeeded', 'chosen') : badge('skipped', 'not chosen'), ' ',
    Object.entries(a.scores).map(([m, v]) => `${metricName(m)} ${metricValue(m, v)}`).join(', '))));
}

function link(id, run, text = null) {
  const known = run?.assets?.find((a) => a.id === id);
  return h('button', { type: 'button', class: 'link', onclick: () => openAsset(id, run) },
    text || (known ? stepLabel(known.role.split('.')[0]) : `asset ${id.slice(0, 8)}`));
}

async function mediaOf(asset) {
  const src = await assetURL(asset.id);
  if (asset.kind === 'image') return h('img', { src, alt: asset.intent || 'the picture' });
  if (asset.kind === 'audio') return h('audio', { controls: true, src, 'aria-label': 'Listen' });
  if (asset.kind === 'video') return h('video', { controls: true, src, 'aria-label': 'Watch' });
  return '';
}
