// The web page `tessera serve` answers at /: upload a photo to a detector and see its boxes
// drawn, start a training job from a folder of annotated images and watch its progress (server-
// sent events), and see the models, their versions and the server's metrics. Plain HTML and
// script, no build step.
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tessera serve</title>
<style>
body { font-family: sans-serif; margin: 1.5em; max-width: 70em; color: #222; }
section { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em 1em; margin-bottom: 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 0; }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.8em; text-align: left; }
canvas { border: 1px solid #999; max-width: 100%; } .error { color: #b00; } progress { width: 20em; }
pre { background: #f6f6f6; padding: 0.5em; max-height: 14em; overflow: auto; font-size: 0.8em; }
</style></head><body>
<h1>tessera serve</h1>
<p><label>Token (training, load/unload): <input id="token" type="password" size="30"></label></p>
<section><h2>Detect</h2>
<label>Model <select id="detect-model"></select></label>
<input id="photo" type="file" accept="image/png,image/jpeg"> <button id="detect">Detect</button>
<p id="detect-status"></p><canvas id="canvas" width="0" height="0"></canvas><ul id="detections"></ul></section>
<section><h2>Train a detector</h2>
<label>Model name <input id="train-model" value="brand"></label>
<label>Epochs <input id="train-epochs" type="number" value="10" min="1" style="width:4em"></label>
<label>Folder (COCO annotations.json or YOLO images/ labels/ classes.txt) <input id="train-files" type="file" webkitdirectory multiple></label>
<button id="train">Start training</button>
<p><progress id="train-progress" value="0" max="1"></progress> <span id="train-status"></span></p></section>
<section><h2>Models</h2><table id="models"><thead><tr><th>name</th><th>kind</th><th>versions</th><th>loaded</th><th>queue</th></tr></thead><tbody></tbody></table></section>
<section><h2>Metrics</h2><pre id="metrics"></pre></section>
<script>
const $ = (id) => document.getElementById(id);
const auth = () => $('token').value ? { authorization: 'Bearer ' + $('token').value } : {};
const colours = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c'];
async function refresh() {
  const { models } = await (await fetch('/v1/models')).json();
  $('models').tBodies[0].innerHTML = models.map((m) => '<tr><td>' + m.name + '</td><td>' + m.kind + '</td><td>' + m.versions.join(', ') +
    '</td><td>' + (m.loadedVersion === null ? '-' : 'v' + m.loadedVersion) + '</td><td>' + m.queue + '</td></tr>').join('');
  const select = $('detect-model'), chosen = select.value;
  select.innerHTML = models.filter((m) => m.kind === 'detector').map((m) => '<option>' + m.name + '</option>').join('');
  if (chosen) select.value = chosen;
  const text = await (await fetch('/metrics')).text();
  $('metrics').textContent = text.split('\\n').filter((l) => l && !l.startsWith('#') && !l.includes('_bucket')).join('\\n');
}
$('detect').onclick = async () => {
  const file = $('photo').files[0];
  if (!file) { $('detect-status').textContent = 'choose a photo first'; return; }
  $('detect-status').textContent = 'detecting...';
  const form = new FormData(); form.append('image', file);
  const res = await fetch('/v1/models/' + encodeURIComponent($('detect-model').value) + '/predict', { method: 'POST', body: form });
  const body = await res.json();
  if (!res.ok) { $('detect-status').innerHTML = '<span class="error">' + res.status + ': ' + body.error + '</span>'; return; }
  const img = await createImageBitmap(file);
  const scale = Math.max(1, Math.floor(512 / Math.max(img.width, img.height)));
  const canvas = $('canvas'), ctx = canvas.getContext('2d');
  canvas.width = img.width * scale; canvas.height = img.height * scale;
  ctx.imageSmoothingEnabled = false; ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 3; ctx.font = '16px sans-serif';
  body.detections.forEach((d, i) => {
    const [x1, y1, x2, y2] = d.box.map((v) => v * scale);
    ctx.strokeStyle = ctx.fillStyle = colours[i % colours.length];
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1); ctx.fillText(d.label + ' ' + d.score.toFixed(2), x1 + 2, Math.max(16, y1 - 4));
  });
  $('detections').innerHTML = body.detections.map((d) => '<li class="detection">' + d.label + ' ' + d.score.toFixed(2) + ' [' + d.box.map((v) => v.toFixed(0)).join(', ') + ']</li>').join('');
  $('detect-status').textContent = body.detections.length + ' detections';
};
$('train').onclick = async () => {
  const files = [...$('train-files').files];
  if (files.length === 0) { $('train-status').textContent = 'choose a folder first'; return; }
  const form = new FormData();
  form.append('model', $('train-model').value); form.append('epochs', $('train-epochs').value);
  for (const f of files) form.append('files', f, f.webkitRelativePath || f.name);
  const res = await fetch('/v1/train', { method: 'POST', body: form, headers: auth() });
  const job = await res.json();
  if (!res.ok) { $('train-status').innerHTML = '<span class="error">' + res.status + ': ' + job.error + '</span>'; return; }
  const events = new EventSource('/v1/train/' + job.id + '/events');
  events.onmessage = (e) => {
    const j = JSON.parse(e.data), p = j.progress;
    if (p) { $('train-progress').value = (p.epoch - 1) * p.steps + p.step + 1; $('train-progress').max = j.epochs * p.steps; }
    $('train-status').textContent = j.id + ': ' + j.state + (p ? ', epoch ' + p.epoch + ', loss ' + p.loss.toFixed(3) : '') +
      (j.version ? ', version v' + j.version + ' serving' : '') + (j.error ? ', ' + j.error : '');
    if (j.state === 'succeeded' || j.state === 'failed') { events.close(); refresh(); }
  };
};
refresh(); setInterval(refresh, 3000);
</script></body></html>
`;
