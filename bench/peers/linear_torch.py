"""Fused-linear peer: torch.nn.functional.linear followed by gelu (exact erf form), autograd for the backward.
usage: linear_torch.py <exchange dir> torch <repeats>"""
import sys

from signature_io import load, report, save, time_ms, torch_threads

folder, peer, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
if peer != "torch":
    raise SystemExit("unknown peer " + peer)
meta, a = load(folder)
torch = torch_threads()
F = torch.nn.functional
x0, w0, b0 = (torch.from_numpy(a[k]) for k in ("x", "w", "b"))


def forward():
    with torch.no_grad():
        return F.gelu(F.linear(x0, w0, b0))


x, w, b = (t.clone().requires_grad_() for t in (x0, w0, b0))
g = torch.from_numpy(a["g"])


def forward_backward():
    x.grad, w.grad, b.grad = None, None, None
    y = F.gelu(F.linear(x, w, b))
    y.backward(g)
    return y


timings = {"torch": time_ms(forward, repeats), "torch fwd+bwd": time_ms(forward_backward, repeats)}
forward_backward()
save(folder, "y_torch", forward().numpy())
save(folder, "gw_torch", w.grad.numpy())
report(timings, ["y_torch", "gw_torch"])
