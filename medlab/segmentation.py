"""Brain tissue segmentation on the MNI152 template: slices, split, networks, training.

Chapter 7 explains every step; chapter 11 reuses :func:`train_chapter_unet` to study the
uncertainty of the chapter's U-Net. Arrays are ``(n, channels, H, W)`` images and
``(n, H, W)`` integer label maps (0 background, 1 CSF, 2 GM, 3 WM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_CLASSES = 4
TISSUES = ("background", "CSF", "GM", "WM")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def position_split(n_slices: int, *, block: int = 5, every: int = 4, offset: int = 3):
    """Split slice positions ``0..n_slices-1`` into train and test by position.

    Slices are grouped in contiguous blocks of ``block``; block ``b`` is a test block when
    ``b % every == offset``. Test slices are therefore never neighbours of many training
    slices (only the first and last slice of a block touch one). Returns two sorted index
    arrays ``(train, test)`` that are disjoint and cover every position. Chapter 7.
    """
    if n_slices < 1:
        raise ValueError(f"position_split: n_slices must be at least 1, got {n_slices}")
    if block < 1 or every < 2:
        raise ValueError(f"position_split: need block >= 1 and every >= 2, got "
                         f"block={block}, every={every}")
    if not 0 <= offset < every:
        raise ValueError(f"position_split: offset must be in [0, {every}), got {offset}")
    positions = np.arange(n_slices)
    is_test = (positions // block) % every == offset
    return positions[~is_test], positions[is_test]


def normalise_in_mask(image, mask):
    """Divide an image by the median intensity inside ``mask`` and set the outside to 0.

    The median of the brain is a robust reference: tissues keep their order (CSF < GM < WM)
    and land near 0.6, 1.0 and 1.25 on the template, whatever the scanner's scale. Chapter 7.
    """
    image = np.asarray(image, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    if image.shape != mask.shape:
        raise ValueError(f"normalise_in_mask: image shape {image.shape} != mask shape "
                         f"{mask.shape}")
    if not mask.any():
        raise ValueError("normalise_in_mask: the mask is empty")
    ref = float(np.median(image[mask]))
    if ref <= 0:
        raise ValueError(f"normalise_in_mask: median inside the mask is {ref}; expected > 0")
    return np.where(mask, image / ref, 0.0).astype(np.float32)


def stack_slices(volume, positions, context=0):
    """Axial slices at ``positions`` with ``context`` neighbours each side as channels
    (edges repeat the end slice): shape (n, 2*context+1, X, Y)."""
    z = volume.shape[2]
    chans = []
    for d in range(-context, context + 1):
        idx = np.clip(np.asarray(positions) + d, 0, z - 1)
        chans.append(np.moveaxis(volume[:, :, idx], 2, 0))
    return np.stack(chans, axis=1).astype(np.float32)


def brain_slices(resolution: int = 2, context: int = 0, *, block: int = 5, every: int = 4,
                 offset: int = 3, crop: bool = True, volume=None) -> dict:
    """Axial slices of the MNI152 template and its tissue labels, split by position.

    Only slices that contain brain are kept; the image is normalised inside the brain mask
    (:func:`normalise_in_mask`); with ``crop`` the in-plane size is cropped around the brain
    to a multiple of 16 (80 x 96 at 2 mm). ``context`` adds that many neighbouring slices on
    each side as extra input channels ("2.5-D"). Returns a dict with ``train_images``
    (n, 2*context+1, H, W), ``train_labels`` (n, H, W), ``test_images``, ``test_labels``,
    ``train_z``, ``test_z`` (slice positions), ``volume`` (normalised 3-D image),
    ``labels`` (3-D), ``box`` (the crop, as slices) and ``spacing``. Chapter 7.
    """
    if context < 0:
        raise ValueError(f"brain_slices: context must be >= 0, got {context}")
    if volume is None:
        from medlab.data import load_mni152_tissue

        volume = load_mni152_tissue(resolution)
    mask = volume.labels > 0
    image = normalise_in_mask(volume.image, mask)
    labels = volume.labels.astype(np.int64)
    box = (slice(None), slice(None))
    if crop:
        box = tuple(_crop_box(mask.any(axis=(2,)).nonzero()[i], mask.shape[i]) for i in (0, 1))
    z_brain = np.nonzero(mask.any(axis=(0, 1)))[0]
    image_c, labels_c = image[box], labels[box]
    train_i, test_i = position_split(len(z_brain), block=block, every=every, offset=offset)
    train_z, test_z = z_brain[train_i], z_brain[test_i]
    return {
        "train_images": stack_slices(image_c, train_z, context),
        "train_labels": np.moveaxis(labels_c[:, :, train_z], 2, 0).copy(),
        "test_images": stack_slices(image_c, test_z, context),
        "test_labels": np.moveaxis(labels_c[:, :, test_z], 2, 0).copy(),
        "train_z": train_z, "test_z": test_z,
        "volume": image, "labels": labels, "box": box,
        "spacing": tuple(volume.spacing), "context": context,
    }


def _crop_box(idx, size, multiple=16, margin=3):
    lo, hi = max(int(idx.min()) - margin, 0), min(int(idx.max()) + 1 + margin, size)
    length = int(np.ceil((hi - lo) / multiple) * multiple)
    if length > size:
        raise ValueError(f"brain_slices: cannot crop to a multiple of {multiple} inside {size} "
                         "voxels; use crop=False")
    centre = (lo + hi) // 2
    start = min(max(centre - length // 2, 0), size - length)
    return slice(start, start + length)


# --------------------------------------------------------------------------------------------
# augmentation (MONAI transforms on one slice at a time)
# --------------------------------------------------------------------------------------------
def augmentation(*, flip: float = 0.5, rotate_deg: float = 5.0, rotate_prob: float = 0.0,
                 intensity: float = 0.0, bias_prob: float = 0.0, seed: int = 0):
    """MONAI dictionary transforms for ``{"image": (C,H,W), "label": (1,H,W)}``: left-right
    flips and, as options that are off by default, small rotations (``rotate_prob``),
    intensity scaling and shift (``intensity``) and a smooth bias field (``bias_prob``).

    The chapter trains with flips only: on a single template those other transforms made the
    U-Net underfit (lower Dice on held-out slices). Chapter 7."""
    import monai.transforms as mt

    steps = []
    if flip > 0:
        steps.append(mt.RandFlipd(["image", "label"], prob=flip, spatial_axis=0))
    if rotate_prob > 0 and rotate_deg > 0:
        steps.append(mt.RandRotated(["image", "label"], range_x=np.deg2rad(rotate_deg),
                                    prob=rotate_prob, mode=("bilinear", "nearest"),
                                    padding_mode="zeros"))
    if intensity > 0:
        steps += [mt.RandScaleIntensityd("image", factors=intensity, prob=0.5),
                  mt.RandShiftIntensityd("image", offsets=intensity, prob=0.5)]
    if bias_prob > 0:
        steps.append(mt.RandBiasFieldd("image", coeff_range=(0.0, 0.05), prob=bias_prob))
    pipeline = mt.Compose(steps)
    pipeline.set_random_state(seed=seed)
    return pipeline


class SliceDataset:
    """A torch-style data set of slices that applies ``transform`` (or nothing) on the fly."""

    def __init__(self, images, labels, transform=None):
        images, labels = np.asarray(images, np.float32), np.asarray(labels)
        if images.ndim != 4 or labels.ndim != 3 or len(images) != len(labels):
            raise ValueError(f"SliceDataset: expected images (n,C,H,W) and labels (n,H,W), got "
                             f"{images.shape} and {labels.shape}")
        if images.shape[2:] != labels.shape[1:]:
            raise ValueError(f"SliceDataset: image size {images.shape[2:]} != label size "
                             f"{labels.shape[1:]}")
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import torch

        item = {"image": torch.as_tensor(self.images[i]),
                "label": torch.as_tensor(self.labels[i][None]).float()}
        if self.transform is not None:
            item = self.transform(item)
        image = torch.as_tensor(item["image"]).float()
        label = torch.as_tensor(item["label"]).round().long()
        return image.as_subclass(torch.Tensor), label.as_subclass(torch.Tensor)


# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------
def make_unet(in_channels: int = 1, num_classes: int = NUM_CLASSES, *, spatial_dims: int = 2,
              channels=(16, 32, 64, 128), num_res_units: int = 1, dropout: float = 0.0,
              norm: str = "batch"):
    """A MONAI U-Net: ``len(channels)`` levels, each halving the size (stride 2), with skip
    connections, PReLU and ``norm`` normalisation (``"batch"`` or ``"instance"``, MONAI's own
    default). Chapter 7 explains why batch normalisation suits intensity-calibrated slices:
    instance normalisation rescales each slice's features on its own and so discards the
    absolute intensity that tells the tissues apart. 3-D with ``spatial_dims=3``."""
    from monai.networks.nets import UNet

    if spatial_dims not in (2, 3):
        raise ValueError(f"make_unet: spatial_dims must be 2 or 3, got {spatial_dims}")
    if in_channels < 1 or num_classes < 2 or len(channels) < 2:
        raise ValueError(f"make_unet: need in_channels >= 1, num_classes >= 2 and at least two "
                         f"levels, got {in_channels}, {num_classes}, {channels}")
    if norm not in ("batch", "instance"):
        raise ValueError(f"make_unet: norm must be 'batch' or 'instance', got {norm!r}")
    return UNet(spatial_dims=spatial_dims, in_channels=in_channels, out_channels=num_classes,
                channels=tuple(channels), strides=(2,) * (len(channels) - 1),
                num_res_units=num_res_units, dropout=dropout, norm=norm)


def make_segnet(in_channels: int = 1, num_classes: int = NUM_CLASSES, width: int = 16,
                levels: int = 3):
    """A small SegNet: an encoder of conv blocks with max pooling that remembers *where* each
    maximum was (pooling indices), and a decoder that unpools to exactly those positions.
    No skip connections carry features across, only the indices. Chapter 7."""
    from torch import nn

    if in_channels < 1 or num_classes < 2 or width < 1 or levels < 1:
        raise ValueError(f"make_segnet: bad sizes in_channels={in_channels}, "
                         f"num_classes={num_classes}, width={width}, levels={levels}")

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True))

    class SegNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [width * 2 ** i for i in range(levels)]
            ins = [in_channels] + widths[:-1]
            self.enc = nn.ModuleList(block(a, b) for a, b in zip(ins, widths))
            self.dec = nn.ModuleList(block(b, a if i else width)
                                     for i, (a, b) in enumerate(zip(ins, widths)))
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.unpool = nn.MaxUnpool2d(2)
            self.head = nn.Conv2d(width, num_classes, 1)

        def forward(self, x):
            memory = []
            for enc in self.enc:
                x = enc(x)
                size = x.shape
                x, idx = self.pool(x)
                memory.append((idx, size))
            for dec, (idx, size) in zip(reversed(self.dec), reversed(memory)):
                x = dec(self.unpool(x, idx, output_size=size))
            return self.head(x)

    return SegNet()


def make_vnet(in_channels: int = 1, num_classes: int = NUM_CLASSES, *, spatial_dims: int = 2,
              dropout: float = 0.0):
    """MONAI's V-Net (residual blocks, strided convolutions instead of pooling), here in 2-D.
    Its first block needs ``16 % in_channels == 0``; sizes must be multiples of 16. Chapter 7."""
    from monai.networks.nets import VNet

    if in_channels < 1 or 16 % in_channels:
        raise ValueError(f"make_vnet: in_channels must divide 16 (1, 2, 4, 8, 16), "
                         f"got {in_channels}")
    return VNet(spatial_dims=spatial_dims, in_channels=in_channels, out_channels=num_classes,
                dropout_prob_down=dropout, dropout_prob_up=(dropout, dropout),
                dropout_dim=spatial_dims)


# --------------------------------------------------------------------------------------------
# training and prediction
# --------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Settings of :func:`train_unet` (the chapter's defaults)."""

    epochs: int = 150
    batch_size: int = 16
    lr: float = 1e-2
    weight_decay: float = 1e-4
    class_weights: tuple | None = None
    augment: bool | dict = True  # True: flips only; a dict: keyword arguments of augmentation()
    seed: int = 0


def dice_ce_loss(class_weights=None):
    """MONAI's Dice + cross-entropy loss for logits (B,K,H,W) and labels (B,1,H,W).

    ``class_weights`` (one per class, background first) is MONAI's ``weight``: ``DiceCELoss``
    applies it to *both* terms, the cross-entropy of each voxel and the Dice loss of each
    class."""
    import torch
    from monai.losses import DiceCELoss

    weight = None if class_weights is None else torch.as_tensor(class_weights,
                                                                dtype=torch.float32)
    return DiceCELoss(to_onehot_y=True, softmax=True, weight=weight)


def train_unet(data: dict, *, model=None, config: TrainConfig | None = None,
               val: bool = False, desc: str = "U-Net", **overrides):
    """Train a segmentation network on ``data["train_*"]`` with Dice-CE, AdamW and a
    one-cycle learning-rate schedule, through :func:`medlab.train.fit` (progress bar).

    ``model`` defaults to :func:`make_unet`; keyword overrides change :class:`TrainConfig`
    fields (``epochs=40``). With ``val=True`` the test slices are passed as the validation
    set *for the learning curve only* (no early stopping, no model selection).
    Returns ``(model, history)``. Chapter 7.
    """
    import torch
    from torch.utils.data import DataLoader

    from medlab.config import seed_everything
    from medlab.train import fit

    config = config or TrainConfig()
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise TypeError(f"train_unet: unknown setting {key!r}")
        setattr(config, key, value)
    for key in ("train_images", "train_labels"):
        if key not in data:
            raise KeyError(f"train_unet: `data` has no {key!r}; use brain_slices()")
    seed_everything(config.seed)
    images, labels = data["train_images"], data["train_labels"]
    if model is None:
        model = make_unet(in_channels=images.shape[1])
    transform = None
    if isinstance(config.augment, dict):
        transform = augmentation(seed=config.seed, **config.augment)
    elif config.augment:
        transform = augmentation(seed=config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(SliceDataset(images, labels, transform), batch_size=config.batch_size,
                        shuffle=True, generator=generator, drop_last=False)
    val_loader = None
    if val:
        val_loader = DataLoader(SliceDataset(data["test_images"], data["test_labels"]),
                                batch_size=64)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, epochs=config.epochs, steps_per_epoch=len(loader))
    loss = dice_ce_loss(config.class_weights)
    history = fit(model, loader, loss_fn=loss, optimizer=optimizer, epochs=config.epochs,
                  val_loader=val_loader, scheduler=scheduler, step_scheduler_per_batch=True,
                  device=torch.device("cpu") if not torch.cuda.is_available() else None,
                  desc=desc)
    model.eval()
    return model, history


def predict_slices(model, images, *, batch_size: int = 64, probabilities: bool = False,
                   flip_tta: bool = False):
    """Label maps (n, H, W) predicted for images (n, C, H, W); with ``probabilities`` the
    softmax (n, K, H, W) instead. With ``flip_tta`` the softmax is averaged with that of the
    left-right mirrored slices (axis H, flipped back): the test-time counterpart of the flips
    seen in training. Chapter 7 (chapter 11 averages over more augmentations)."""
    import torch

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"predict_slices: images must be (n, C, H, W), got {images.shape}")
    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.as_tensor(images[start:start + batch_size], device=device)
            p = torch.softmax(model(x), dim=1).cpu().numpy()
            out.append(p)
    probs = np.concatenate(out)
    if flip_tta:
        mirrored = predict_slices(model, images[:, :, ::-1].copy(), batch_size=batch_size,
                                  probabilities=True)
        probs = (probs + mirrored[:, :, ::-1]) / 2
    return probs if probabilities else probs.argmax(1)


def predict_volume(model, data: dict):
    """Predict every axial slice of ``data["volume"]`` (inside the crop box) and return a 3-D
    label map of the full volume's shape: training and test slices alike, for display in
    three planes. Only ``data["test_z"]`` slices were never seen in training. Chapter 7."""
    volume, box = data["volume"], data["box"]
    z_all = np.arange(volume.shape[2])
    pred = predict_slices(model, stack_slices(volume[box], z_all, data.get("context", 0)))
    out = np.zeros(volume.shape, dtype=np.int64)
    out[box] = np.moveaxis(pred, 0, 2)
    return out


def hd95_slices(pred, target, *, spacing=(1.0, 1.0), num_classes: int = NUM_CLASSES,
                return_counts: bool = False):
    """Mean over slices of the 2-D 95 % Hausdorff distance of each foreground class (MONAI,
    via :func:`medlab.metrics.hd95_per_class`), in mm given the in-plane ``spacing``.

    A slice where a class is missing from the truth or the prediction is skipped for that class
    (its distance is undefined); the result is NaN when no slice is left. Two methods can
    therefore be averaged over different slices: with ``return_counts`` the number of slices
    used per class is returned too, ``(hd95, counts)``. Chapter 7 measures in 3-D per subject
    (:func:`subject_scores`) instead, where nothing is skipped."""
    import warnings

    from medlab.metrics import hd95_per_class

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape or pred.ndim != 3:
        raise ValueError(f"hd95_slices: expected two (n, H, W) label maps of the same shape, "
                         f"got {pred.shape} and {target.shape}")
    values = [[] for _ in range(num_classes - 1)]
    for p, t in zip(pred, target):
        present = [(p == c).any() and (t == c).any() for c in range(1, num_classes)]
        if not any(present):
            continue
        with warnings.catch_warnings():
            # MONAI warns about classes absent from a slice; those are skipped just below
            warnings.filterwarnings("ignore", message=".*(all 0|all 0s).*")
            hd = hd95_per_class(p, t, num_classes, spacing=spacing)
        for c, ok in enumerate(present):
            if ok and np.isfinite(hd[c]):
                values[c].append(float(hd[c]))
    hd = np.array([np.mean(v) if v else np.nan for v in values])
    return (hd, np.array([len(v) for v in values])) if return_counts else hd


def train_chapter_unet(seed: int = 0, epochs: int = 60, context: int = 1, data=None):
    """A chapter-7 U-Net with a shorter schedule, reproducible from ``seed`` (chapter 11
    reuses it): returns ``(model, data)``. About 30 s on 2 CPU cores.

    It keeps the settings chapter 11 was written against (instance normalisation, peak
    learning rate 1e-2; flips, rotations, intensity jitter and bias field), not chapter 7's
    final recipe (batch normalisation, flips only)."""
    data = data if data is not None else brain_slices(resolution=2, context=context)
    from medlab.config import seed_everything

    seed_everything(seed)  # the same initial weights as when train_unet built the network
    net = make_unet(in_channels=data["train_images"].shape[1], norm="instance")
    model, _ = train_unet(data, model=net, epochs=epochs, seed=seed, desc=f"U-Net (seed {seed})",
                          lr=1e-2,
                          augment={"rotate_prob": 0.2, "intensity": 0.05, "bias_prob": 0.2})
    return model, data


# --------------------------------------------------------------------------------------------
# pseudo-subjects: a split by subject from one template (chapter 7)
# --------------------------------------------------------------------------------------------
SUBJECT_SIZE = (96, 112, 88)  # 2-mm voxels around the brain; in-plane a multiple of 16


def _template_box(labels, size):
    """Slices of ``size`` centred on the brain of ``labels`` (padding where it runs out)."""
    brain = labels > 0
    out = []
    for ax, n in enumerate(size):
        idx = np.nonzero(brain.any(axis=tuple(j for j in range(3) if j != ax)))[0]
        centre = (int(idx.min()) + int(idx.max()) + 1) // 2
        out.append((centre - n // 2, centre - n // 2 + n))
    return out


def _crop_pad(array, box):
    pads = [(max(-lo, 0), max(hi - s, 0)) for (lo, hi), s in zip(box, array.shape)]
    array = np.pad(array, pads)
    return array[tuple(slice(lo + p, hi + p) for (lo, hi), (p, _) in zip(box, pads))]


def pseudo_subject(image, labels, seed: int, *, size=SUBJECT_SIZE, deform: float = 0.06,
                   grid=(4, 5, 4), blur=(0.2, 0.7),
                   bias: float = 0.1, gamma=(0.8, 1.25), noise: float = 0.02) -> dict:
    """One pseudo-subject made from a template ``image`` and its ``labels`` with MONAI's
    random transforms, all drawn from ``seed`` (the recipe of domain-randomised training,
    as in SynthSeg). Chapter 7.

    Shape: a smooth random deformation (``RandSmoothDeformd``: random displacements of up to
    ``deform`` in normalised coordinates, about 3 voxels (6 mm) here, on a coarse ``grid``,
    interpolated to every voxel; a coarse grid also scales, shifts and bends the brain as a
    whole) moves image and labels together, in one trilinear resampling: the labels as a
    brain mask and one 0/1 map per tissue, a voxel being brain where the mask stays >= 0.5,
    with the tissue whose map is highest. Acquisition, on the image only: partial-volume blur
    (``RandGaussianSmooth``, sigma in ``blur`` voxels), a smooth multiplicative bias field
    (``RandBiasField``, coefficients up to ``bias``), a gamma change of contrast
    (``RandAdjustContrast``) and Rician noise (``RandRicianNoise``, sd up to ``noise``).
    The image is then normalised inside the subject's brain mask (:func:`normalise_in_mask`).
    Returns ``{"image", "labels"}`` of shape ``size``, the ``seed`` and the crop ``box``
    (per axis ``(start, stop)`` in template voxels).
    """
    import monai.transforms as mt
    import torch

    image, labels = np.asarray(image, np.float32), np.asarray(labels)
    if image.ndim != 3 or image.shape != labels.shape:
        raise ValueError(f"pseudo_subject: expected a 3-D image and labels of one shape, got "
                         f"{image.shape} and {labels.shape}")
    if not (labels > 0).any():
        raise ValueError("pseudo_subject: `labels` holds no brain (no label > 0)")
    box = _template_box(labels, size)
    crop = _crop_pad(labels, box)
    # the brain mask and one map per tissue, interpolated and decided separately, so that the
    # thin CSF at the brain's edge does not lose the vote to the background outside it
    onehot = np.stack([crop > 0] + [crop == k for k in range(1, NUM_CLASSES)]).astype(np.float32)
    item = {"image": torch.as_tensor(_crop_pad(image, box)[None]),
            "label": torch.as_tensor(onehot)}
    keys, modes = ["image", "label"], ("bilinear", "bilinear")
    # one resampling only: every interpolation thins the one-voxel CSF a little more
    shape = mt.RandSmoothDeformd(keys, spatial_size=tuple(size), rand_size=grid, prob=1.0,
                                 def_range=deform, field_mode="trilinear", grid_mode=modes,
                                 grid_padding_mode="zeros", align_corners=True,
                                 grid_align_corners=True)
    acquisition = mt.Compose([
        mt.RandGaussianSmooth(sigma_x=blur, sigma_y=blur, sigma_z=blur, prob=1.0),
        mt.RandBiasField(degree=3, coeff_range=(0.0, bias), prob=1.0),
        mt.RandAdjustContrast(gamma=gamma, prob=1.0),
        mt.RandRicianNoise(std=noise, prob=1.0),
    ])
    rng = np.random.default_rng(seed)
    shape.set_random_state(seed=int(rng.integers(2**31)))
    acquisition.set_random_state(seed=int(rng.integers(2**31)))
    item = shape(item)
    maps = np.asarray(item["label"])
    out_labels = np.where(maps[0] >= 0.5, maps[1:].argmax(0) + 1, 0).astype(np.int64)
    out_image = np.asarray(acquisition(item["image"]))[0]
    return {"image": normalise_in_mask(out_image, out_labels > 0), "labels": out_labels,
            "seed": seed, "box": box}


def pseudo_subjects(n: int, seed: int = 0, *, volume=None, **options) -> list[dict]:
    """``n`` pseudo-subjects (:func:`pseudo_subject`) from the 2-mm MNI152 template (or
    ``volume``), subject ``i`` drawn from its own seed (``SeedSequence(seed)`` spawned ``n``
    ways). Chapter 7."""
    if n < 1:
        raise ValueError(f"pseudo_subjects: n must be at least 1, got {n}")
    if volume is None:
        from medlab.data import load_mni152_tissue

        volume = load_mni152_tissue(2)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
    return [pseudo_subject(volume.image, volume.labels, s, **options) for s in seeds]


def subject_slices(subjects, context: int = 1, *, every: int = 1):
    """Axial slices (every ``every``-th one that holds brain) of a list of subjects, with
    ``context`` neighbours as channels: ``(images (n, 2c+1, H, W), labels (n, H, W))``."""
    if not subjects:
        raise ValueError("subject_slices: `subjects` is empty")
    if context < 0 or every < 1:
        raise ValueError(f"subject_slices: need context >= 0 and every >= 1, got {context}, "
                         f"{every}")
    images, labels = [], []
    for s in subjects:
        z = np.nonzero((s["labels"] > 0).any(axis=(0, 1)))[0][::every]
        images.append(stack_slices(s["image"], z, context))
        labels.append(np.moveaxis(s["labels"][:, :, z], 2, 0))
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def predict_subject(model, subject: dict, context: int = 1, *, flip_tta: bool = False):
    """3-D tissue map of one subject from a 2-D network, slice by slice: inside the brain
    mask the most probable *tissue* (CSF, GM or WM), outside 0, so that every method is
    given the same brain mask. Chapter 7."""
    image, mask = subject["image"], subject["labels"] > 0
    probs = predict_slices(model, stack_slices(image, np.arange(image.shape[2]), context),
                           probabilities=True, flip_tta=flip_tta)  # (z, K, X, Y)
    tissue = probs[:, 1:].argmax(1) + 1
    return np.where(mask, np.moveaxis(tissue, 0, 2), 0).astype(np.int64)


def n4_correct(image, mask, *, spacing=(2.0, 2.0, 2.0), shrink: int = 3,
               iterations=(50, 50), return_log_field: bool = False):
    """Correct the bias field of a 3-D ``image`` inside ``mask`` with SimpleITK's N4
    (``N4BiasFieldCorrectionImageFilter``, Tustison et al. 2010), as chapter 3 does: the field
    is estimated on the image shrunk by ``shrink`` in each direction, with ``iterations`` per
    resolution level (one level per entry), then N4's log field is evaluated on the full grid
    (``GetLogBiasFieldAsImage``) and divided out. The field's overall scale is left free by
    N4, so the result is normalised inside ``mask`` again (:func:`normalise_in_mask`).
    Returns the corrected image (0 outside ``mask``), and the log field too when
    ``return_log_field``. Chapter 7 (chapter 3 explains N4 and measures what it does).
    """
    import SimpleITK as sitk

    image = np.asarray(image, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    if image.ndim != 3 or image.shape != mask.shape:
        raise ValueError(f"n4_correct: expected a 3-D image and mask of one shape, got "
                         f"{image.shape} and {mask.shape}")
    if not mask.any():
        raise ValueError("n4_correct: `mask` is empty")
    if int(shrink) != shrink or shrink < 1:
        raise ValueError(f"n4_correct: shrink must be a whole number >= 1, got {shrink}")
    iterations = [int(n) for n in np.atleast_1d(iterations)]
    if not iterations or min(iterations) < 1:
        raise ValueError(f"n4_correct: iterations needs one count >= 1 per level, got "
                         f"{iterations}")
    if (image[mask] <= 0).any():
        raise ValueError("n4_correct: N4 works on the log of the image; every voxel inside "
                         "`mask` must be > 0")

    def to_sitk(array):  # our arrays are (x, y, z); SimpleITK's are indexed (z, y, x)
        out = sitk.GetImageFromArray(np.ascontiguousarray(np.transpose(array, (2, 1, 0))))
        out.SetSpacing(tuple(float(s) for s in spacing))
        return out

    full = to_sitk(image)
    n4 = sitk.N4BiasFieldCorrectionImageFilter()
    n4.SetMaximumNumberOfIterations(iterations)
    factors = [int(shrink)] * 3
    n4.Execute(sitk.Shrink(full, factors), sitk.Shrink(to_sitk(mask.astype(np.uint8)), factors))
    log_field = np.transpose(sitk.GetArrayFromImage(n4.GetLogBiasFieldAsImage(full)), (2, 1, 0))
    log_field = log_field - log_field[mask].mean()  # the field's scale is free: mean 0 inside
    corrected = normalise_in_mask(image / np.exp(log_field), mask)
    return (corrected, log_field.astype(np.float32)) if return_log_field else corrected


def choose_thresholds(images, labels, *, grid=None):
    """The two cut points ``(t1, t2)`` on intensity that maximise the mean Dice of CSF
    (x < t1), GM (t1 <= x < t2) and WM (x >= t2) over all brain voxels of the training
    ``images`` and ``labels`` (lists of 3-D arrays). Exhaustive over ``grid``, counted with
    histograms. Returns ``(t1, t2, mean_dice)``. Chapter 7."""
    grid = np.linspace(0.2, 1.6, 141) if grid is None else np.sort(np.asarray(grid, float))
    if len(grid) < 2:
        raise ValueError(f"choose_thresholds: grid needs at least 2 values, got {len(grid)}")
    labels = [np.asarray(lab) for lab in labels]
    x = np.concatenate([np.asarray(im)[lab > 0] for im, lab in zip(images, labels)])
    y = np.concatenate([lab[lab > 0] for lab in labels])
    if not x.size:
        raise ValueError("choose_thresholds: no brain voxels (label > 0) in `labels`")
    bins = np.searchsorted(grid, x, side="right")  # voxel is below grid[j] iff bins <= j
    counts = np.stack([np.bincount(bins[y == k], minlength=len(grid) + 1) for k in (1, 2, 3)])
    below = np.cumsum(counts, axis=1)[:, :-1]  # below[k, j]: voxels of tissue k with x < grid[j]
    total = counts.sum(1)
    n_below = below.sum(0)
    dice_csf = 2 * below[0] / (n_below + total[0])
    tp_wm = total[2] - below[2]
    dice_wm = 2 * tp_wm / (x.size - n_below + total[2])
    # GM between cut i and cut j > i
    tp_gm = below[1][None, :] - below[1][:, None]
    n_gm = n_below[None, :] - n_below[:, None]
    dice_gm = 2 * tp_gm / np.maximum(n_gm + total[1], 1)
    score = (dice_csf[:, None] + dice_gm + dice_wm[None, :]) / 3
    score[np.tril_indices(len(grid))] = -np.inf
    i, j = np.unravel_index(np.argmax(score), score.shape)
    return float(grid[i]), float(grid[j]), float(score[i, j])


def apply_thresholds(image, mask, t1: float, t2: float):
    """Label map of the two-threshold rule: CSF below ``t1``, WM from ``t2``, GM between,
    0 outside ``mask``. Chapter 7."""
    if not t1 < t2:
        raise ValueError(f"apply_thresholds: need t1 < t2, got {t1} and {t2}")
    image = np.asarray(image)
    labels = 1 + (image >= t1).astype(np.int64) + (image >= t2)
    return np.where(np.asarray(mask, bool), labels, 0)


def boundary_scores(pred, target, *, spacing=(2.0, 2.0, 2.0), tolerance: float | None = None,
                    num_classes: int = NUM_CLASSES) -> dict:
    """The boundary scores of each foreground class, from one computation of the distances
    between the two boundaries (MONAI's ``get_edge_surface_distance``, both directions), as
    MONAI's metric functions define them:

    - ``"HD95 (mm)"``: the larger of the two directed 95th percentiles (MONAI's
      ``compute_hausdorff_distance(percentile=95)``; not the percentile of the pooled
      distances), ``"HD max (mm)"``: the largest distance, which a single stray voxel sets;
    - ``"ASD (mm)"``: the average symmetric surface distance, the mean of both directions'
      distances pooled (``compute_average_surface_distance(symmetric=True)``);
    - ``"surface Dice"``: the share of both boundaries within ``tolerance`` mm (default: the
      largest voxel side) of the other (``compute_surface_dice``, Nikolov et al.).

    Arrays of one value per foreground class, NaN where a class is absent from either map.
    Computing the distances once makes the four scores of a 3-D subject about four times
    quicker than four calls of MONAI's functions. Chapter 7."""
    import warnings

    import torch
    from monai.metrics.utils import get_edge_surface_distance

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"boundary_scores: pred shape {pred.shape} != target shape "
                         f"{target.shape}")
    tolerance = float(max(spacing)) if tolerance is None else float(tolerance)
    if tolerance <= 0:
        raise ValueError(f"boundary_scores: tolerance must be positive (mm), got {tolerance}")
    names = ("HD95 (mm)", "HD max (mm)", "ASD (mm)", "surface Dice")
    out = {name: np.full(num_classes - 1, np.nan) for name in names}
    for c in range(1, num_classes):
        p, t = pred == c, target == c
        if not (p.any() and t.any()):
            continue
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(all 0|empty|always_return_as_numpy).*")
            _, (d_pred, d_true), _ = get_edge_surface_distance(
                torch.as_tensor(p), torch.as_tensor(t), spacing=spacing, symmetric=True)
        d_pred, d_true = d_pred.double(), d_true.double()
        both = torch.cat([d_pred, d_true])
        out["HD95 (mm)"][c - 1] = max(float(torch.quantile(d, 0.95)) for d in (d_pred, d_true))
        out["HD max (mm)"][c - 1] = float(both.max())
        out["ASD (mm)"][c - 1] = float(both.mean())
        out["surface Dice"][c - 1] = float((both <= tolerance).double().mean())
    return out


def subject_scores(pred, target, *, spacing=(2.0, 2.0, 2.0), tissues=TISSUES[1:],
                   allow_missing: bool = False):
    """Per tissue of one subject, in 3-D: Dice, HD95 and maximum Hausdorff distance (mm), the
    average surface distance (mm) and the surface Dice at one voxel's tolerance
    (:func:`boundary_scores`), true and predicted volume (mL) and the volume error (%). A
    pandas DataFrame. Chapter 7.

    A tissue absent from the truth or the prediction has no boundary distance (and, absent
    from both, no Dice): its scores would be NaN, which a later mean skips without a word, so
    that two methods could be averaged over different subjects. By default this raises a
    ``ValueError`` naming the tissue; with ``allow_missing=True`` the NaN are returned and
    the column ``missing`` marks those tissues, for the caller to handle explicitly."""
    import pandas as pd

    from medlab.metrics import dice_per_class

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.ndim != 3 or pred.shape != target.shape:
        raise ValueError(f"subject_scores: expected two 3-D label maps of one shape, got "
                         f"{pred.shape} and {target.shape}")
    k = len(tissues) + 1
    missing = np.array([not ((pred == c).any() and (target == c).any()) for c in range(1, k)])
    if missing.any() and not allow_missing:
        where = ", ".join(f"{t} ({'truth' if not (target == c).any() else 'prediction'})"
                          for c, (t, m) in enumerate(zip(tissues, missing), start=1) if m)
        raise ValueError(f"subject_scores: tissue missing from a map: {where}; its scores "
                         f"would be NaN. Pass allow_missing=True to get them as NaN")
    ml = float(np.prod(spacing)) / 1000.0
    true_ml = np.array([(target == c).sum() for c in range(1, k)]) * ml
    pred_ml = np.array([(pred == c).sum() for c in range(1, k)]) * ml
    return pd.DataFrame({
        "Dice": dice_per_class(pred, target, k),
        **boundary_scores(pred, target, spacing=spacing, num_classes=k),
        "volume true (mL)": true_ml, "volume (mL)": pred_ml,
        "volume error (%)": 100 * (pred_ml - true_ml) / np.maximum(true_ml, 1e-9),
        "missing": missing,
    }, index=list(tissues))
