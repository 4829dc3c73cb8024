"""Independent reference for Tessera's meanAveragePrecision (src/metrics/detection.ts).

Re-implements pycocotools' COCOeval for bounding boxes ('all' area range, no crowd boxes)
with numpy in pycocotools' own array layout (evaluateImg -> dtMatches, accumulate ->
precision[T, R, K], summarize), on random cases with score ties, duplicate boxes and classes
without ground truth, and writes inputs and results to a JSON fixture:

    /usr/bin/python3 bench/peers/coco_map_reference.py test/fixtures/detection/coco-map.json
"""
import json
import sys

import numpy as np

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)


def box_iou(dt, gt):
    """[D, G] IoU of xyxy boxes (pycocotools' bbox IoU for non-crowd boxes)."""
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    lt = np.maximum(dt[:, None, :2], gt[None, :, :2])
    rb = np.minimum(dt[:, None, 2:], gt[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_d = (dt[:, 2] - dt[:, 0]) * (dt[:, 3] - dt[:, 1])
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    union = area_d[:, None] + area_g[None, :] - inter
    return np.where(inter > 0, inter / np.where(union > 0, union, 1), 0.0)


def evaluate_img(dt_boxes, dt_scores, gt_boxes, max_det):
    order = np.argsort(-dt_scores, kind='mergesort')[:max_det]
    dt_boxes, dt_scores = dt_boxes[order], dt_scores[order]
    ious = box_iou(dt_boxes, gt_boxes)
    T, D, G = len(IOU_THRS), len(dt_boxes), len(gt_boxes)
    gtm = np.zeros((T, G))
    dtm = np.zeros((T, D))
    for tind, t in enumerate(IOU_THRS):
        for dind in range(D):
            iou = min([t, 1 - 1e-10])
            m = -1
            for gind in range(G):
                if gtm[tind, gind] > 0:
                    continue
                if ious[dind, gind] < iou:
                    continue
                iou = ious[dind, gind]
                m = gind
            if m == -1:
                continue
            dtm[tind, dind] = m + 1
            gtm[tind, m] = dind + 1
    return dt_scores, dtm, G


def coco_map(images, num_classes, max_det=100):
    T, R, K = len(IOU_THRS), len(REC_THRS), num_classes
    precision = -np.ones((T, R, K))
    for k in range(K):
        evals = []
        for img in images:
            d = np.array(img['dt_labels']) == k
            g = np.array(img['gt_labels']) == k
            if not d.any() and not g.any():
                continue
            evals.append(evaluate_img(np.array(img['dt_boxes']).reshape(-1, 4)[d], np.array(img['dt_scores'])[d],
                                      np.array(img['gt_boxes']).reshape(-1, 4)[g], max_det))
        if not evals:
            continue
        dt_scores = np.concatenate([e[0][:max_det] for e in evals])
        inds = np.argsort(-dt_scores, kind='mergesort')
        dtm = np.concatenate([e[1][:, :max_det] for e in evals], axis=1)[:, inds]
        npig = sum(e[2] for e in evals)
        if npig == 0:
            continue
        tps = dtm != 0
        fps = dtm == 0
        tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
        fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
        for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
            nd = len(tp)
            rc = tp / npig
            pr = (tp / (fp + tp + np.spacing(1))).tolist()
            q = np.zeros((R,))
            for i in range(nd - 1, 0, -1):
                if pr[i] > pr[i - 1]:
                    pr[i - 1] = pr[i]
            inds_r = np.searchsorted(rc, REC_THRS, side='left')
            try:
                for ri, pi in enumerate(inds_r):
                    q[ri] = pr[pi]
            except IndexError:
                pass
            precision[t, :, k] = q
    def mean(s):
        s = s[s > -1]
        return float(np.mean(s)) if len(s) else float('nan')
    return {
        'map': mean(precision),
        'map50': mean(precision[0]),
        'map75': mean(precision[5]),
        'precision_by_threshold': [[float(np.mean(precision[t, :, k])) if precision[t, 0, k] > -1 else -1.0
                                    for k in range(K)] for t in range(T)],
    }


def random_case(rng, n_images, num_classes, max_gt, max_dt, quantize):
    images = []
    for _ in range(n_images):
        ng, nd = rng.integers(0, max_gt + 1), rng.integers(0, max_dt + 1)
        xy = rng.uniform(0, 80, (ng, 2))
        gt = np.concatenate([xy, xy + rng.uniform(4, 40, (ng, 2))], axis=1)
        gt_labels = rng.integers(0, num_classes, ng)
        # Half the detections are jittered copies of ground truth boxes (some exact), the rest random.
        boxes, labels = [], []
        for i in range(nd):
            if ng and rng.uniform() < 0.6:
                j = rng.integers(0, ng)
                jitter = 0 if rng.uniform() < 0.2 else rng.normal(0, 4, 4)
                boxes.append(gt[j] + jitter)
                labels.append(gt_labels[j] if rng.uniform() < 0.85 else rng.integers(0, num_classes))
            else:
                p = rng.uniform(0, 80, 2)
                boxes.append(np.concatenate([p, p + rng.uniform(4, 40, 2)]))
                labels.append(rng.integers(0, num_classes))
        boxes = np.array(boxes).reshape(-1, 4)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        scores = rng.uniform(0, 1, nd)
        if quantize:
            scores = np.round(scores * 4) / 4  # many ties
        images.append({'gt_boxes': gt.ravel().tolist(), 'gt_labels': gt_labels.tolist(),
                       'dt_boxes': boxes.ravel().tolist(), 'dt_labels': [int(l) for l in labels],
                       'dt_scores': scores.tolist()})
    return images


def main(out):
    rng = np.random.default_rng(20261206)
    cases = []
    for n_images, num_classes, max_gt, max_dt, quantize, max_det in [
            (1, 1, 3, 4, False, 100), (4, 3, 5, 8, False, 100), (6, 4, 6, 12, True, 100),
            (8, 5, 4, 20, False, 5), (10, 3, 8, 10, True, 100), (3, 6, 2, 3, False, 100)]:
        images = random_case(rng, n_images, num_classes, max_gt, max_dt, quantize)
        result = coco_map(images, num_classes, max_det)
        cases.append({'num_classes': num_classes, 'max_detections': max_det, 'images': images, **result})
    with open(out, 'w') as f:
        json.dump({'made_by': 'bench/peers/coco_map_reference.py', 'numpy': np.__version__, 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1])
