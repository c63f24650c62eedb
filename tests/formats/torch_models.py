"""A PyTorch module class the torch flavor packages with its state dict."""

from __future__ import annotations

import torch


class IrisNet(torch.nn.Module):
    """A two-layer network for iris."""

    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(4, hidden)
        self.out = torch.nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x)))


def train(x: torch.Tensor, y: torch.Tensor, *, hidden: int = 8, steps: int = 60) -> IrisNet:
    """A few full-batch Adam steps: enough to be a real model, fast enough for a test."""
    torch.manual_seed(0)
    net = IrisNet(hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimiser.step()
    net.modelport_init_kwargs = {"hidden": hidden}  # how the torch flavor rebuilds the class
    return net.eval()
