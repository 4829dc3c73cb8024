"""CMD peer: PyTorch written the natural vectorized way, autograd for the backward.
usage: signature_cmd.py <exchange dir> torch <repeats>
loss = ||mean(X) - mean(Y)|| + sum_{k=2..K} ||c_k(X) - c_k(Y)||, c_k = mean((X - mean)^k)."""
from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
K = meta["K"]


def cmd(x, y):
    mx, my = x.mean(0), y.mean(0)
    cx, cy = x - mx, y - my
    loss = torch.norm(mx - my)
    for k in range(2, K + 1):
        loss = loss + torch.norm((cx ** k).mean(0) - (cy ** k).mean(0))
    return loss


x0, y0 = torch.from_numpy(a["x"]), torch.from_numpy(a["y"])


def forward():
    with torch.no_grad():
        return cmd(x0, y0)


x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()


def forward_backward():
    x.grad, y.grad = None, None
    loss = cmd(x, y)
    loss.backward()
    return loss, x.grad, y.grad


timings = {"torch": time_ms(forward, repeats), "torch fwd+bwd": time_ms(forward_backward, repeats)}
loss, gx, gy = forward_backward()
save(folder, "loss_torch", loss.detach().reshape(1).numpy())
save(folder, "gx_torch", gx.numpy())
save(folder, "gy_torch", gy.numpy())
report(timings, ["loss_torch", "gx_torch", "gy_torch"])
