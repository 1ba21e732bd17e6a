"""A tiny CNN on synthetic images for the milestone tests (copied next to the test notebooks).

The dataset draws its augmentations inside the DataLoader workers from all three RNGs (Python ``random``,
NumPy's global RNG, torch), so a resume or a verify is exact only if every one of them is restored or
seeded.  ``build`` is the factory a load check imports in a fresh process
(``factory="training_model:build"``).
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn


class SyntheticImages(torch.utils.data.Dataset):
    """``n`` 1x12x12 images of a bright square (class 1) or a bright bar (class 0), fixed by ``seed``."""

    def __init__(self, n: int = 96, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 2, n)
        images = rng.normal(0.0, 0.3, (n, 1, 12, 12)).astype(np.float32)
        for i, label in enumerate(self.labels):
            r, c = rng.integers(2, 8, 2)
            if label:
                images[i, 0, r : r + 3, c : c + 3] += 1.5
            else:
                images[i, 0, r, 1:11] += 1.5
        self.images = torch.from_numpy(images)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        x = self.images[i].clone()
        if random.random() < 0.5:  # Python's RNG
            x = torch.flip(x, dims=[2])
        x = x + torch.from_numpy(np.random.normal(0.0, 0.05, x.shape).astype(np.float32))  # NumPy's
        shift = int(torch.randint(-1, 2, ()).item())  # torch's
        x = torch.roll(x, shifts=shift, dims=1)
        return x, int(self.labels[i])


class TinyCNN(nn.Module):
    def __init__(self, channels: int = 4, classes: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(channels * 6 * 6, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.head(self.drop(x.flatten(1)))


def build(channels: int = 4) -> TinyCNN:
    return TinyCNN(channels)


def train_epoch(model, loader, optimizer, scheduler) -> float:
    """One epoch; the mean loss (a Python float, exact)."""
    model.train()
    total, batches = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        batches += 1
    scheduler.step()
    return total / batches
