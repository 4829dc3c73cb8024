"""conv3d peer: torch.nn.functional.conv3d forward, and forward + backward for
the input and the weight (no bias).
usage: signature_conv3d.py <exchange dir> torch <repeats>"""
from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
F = torch.nn.functional
stride, padding = tuple(meta["stride"]), tuple(meta["padding"])
x0, w0, gy = torch.from_numpy(a["x"]), torch.from_numpy(a["w"]), torch.from_numpy(a["gy"])


def forward():
    with torch.no_grad():
        return F.conv3d(x0, w0, stride=stride, padding=padding)


x, w = x0.clone().requires_grad_(), w0.clone().requires_grad_()


def forward_backward():
    x.grad, w.grad = None, None
    y = F.conv3d(x, w, stride=stride, padding=padding)
    y.backward(gy)
    return y, x.grad, w.grad


timings = {"torch": time_ms(forward, repeats), "torch fwd+bwd": time_ms(forward_backward, repeats)}
y, gx, gw = forward_backward()
save(folder, "y_torch", y.detach().numpy())
save(folder, "gx_torch", gx.numpy())
save(folder, "gw_torch", gw.numpy())
report(timings, ["y_torch", "gx_torch", "gw_torch"])
