"""NMS peer of bench/cases/detect.ts: torchvision.ops.batched_nms on the same boxes, scores and
classes (CPU, the bench's thread count); saves the kept indices so the bench checks both agree.
usage: nms_torchvision.py <exchange dir> torch <repeats>"""
import numpy as np

from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
try:
    from torchvision.ops import batched_nms
except ImportError as e:
    print('{"ms": {}, "skip": "torchvision is not installed: %s"}' % e)
    raise SystemExit(0)

boxes, scores, classes = (torch.from_numpy(a[n]) for n in ("boxes", "scores", "classes"))
classes = classes.long()
iou = meta["iouThreshold"]
kept = batched_nms(boxes, scores, classes, iou)
save(folder, "kept", kept.numpy().astype(np.float32))
report({"torchvision batched_nms": time_ms(lambda: batched_nms(boxes, scores, classes, iou), repeats, 2)}, outputs=["kept"])
