"""Fused-linear peer: torch.nn.functional.linear followed by gelu (exact erf form), autograd for the backward.
usage: linear_torch.py <exchange dir> torch <repeats>"""
from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
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
