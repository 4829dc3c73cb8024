"""LSTM peer: torch.nn.LSTM with the case's weights (loaded by torch's parameter names) on the case's input.
'torch fwd+bwd': forward and backward of sum(output * g) (training); 'torch step': one forward step with
carried state, no autograd (sampling).
usage: lstm_torch.py <exchange dir> torch <repeats>"""
from signature_io import report, save, time_ms, torch_peer

folder, repeats, meta, a, torch = torch_peer()
lstm = torch.nn.LSTM(meta["input"], meta["hidden"], num_layers=meta["layers"], batch_first=True)
with torch.no_grad():
    for name, p in lstm.named_parameters():
        p.copy_(torch.from_numpy(a[name]))
x, g, step_x = (torch.from_numpy(a[k]) for k in ("x", "g", "step_x"))
step_state = (torch.from_numpy(a["step_h"]), torch.from_numpy(a["step_c"]))


def forward_backward():
    lstm.zero_grad(set_to_none=True)
    out, _ = lstm(x)
    (out * g).sum().backward()
    return out


def sampling_step():
    with torch.no_grad():
        return lstm(step_x, step_state)


timings = {"torch fwd+bwd": time_ms(forward_backward, repeats), "torch step": time_ms(sampling_step, repeats * 20)}
save(folder, "out_torch", forward_backward().detach().numpy())
save(folder, "gw_torch", lstm.weight_hh_l0.grad.numpy())
save(folder, "step_torch", sampling_step()[0].numpy())
report(timings, ["out_torch", "gw_torch", "step_torch"])
