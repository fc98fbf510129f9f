"""Architectures that torchvision 0.14 does not ship, written from the papers.

Every module exposes a builder ``<name>(num_classes=...) -> torch.nn.Module``.
"""
