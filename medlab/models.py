"""Small networks several chapters share (defined in chapter 6, reused in 10 and 11)."""

from __future__ import annotations


def small_cnn(in_channels: int = 1, num_classes: int = 2, width: int = 16,
              dropout: float = 0.25):
    """A compact CNN for 28×28 images: three conv-BN-ReLU blocks with pooling, then a linear
    classifier. ``dropout`` stays active under MC dropout (chapter 11).

    Returns a ``torch.nn.Sequential`` whose last convolution is ``model[8]`` (for Grad-CAM,
    the feature maps are the output of ``model[10]``, the last ReLU).
    """
    from torch import nn

    if in_channels < 1 or num_classes < 2 or width < 1:
        raise ValueError(f"small_cnn: need in_channels>=1, num_classes>=2, width>=1; got "
                         f"{in_channels}, {num_classes}, {width}")
    w = width
    return nn.Sequential(
        nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),      # 0-2
        nn.MaxPool2d(2),                                                           # 3: 14x14
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),       # 4-6
        nn.MaxPool2d(2),                                                           # 7: 7x7
        nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),   # 8-10
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),                                     # 11-12
        nn.Dropout(dropout), nn.Linear(4 * w, num_classes),                        # 13-14
    )
