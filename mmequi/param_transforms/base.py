"""Base class of the parametrised image transformations ``g_theta``.

Reference: Wang et al., *Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation*, AAAI-26
(arXiv:2503.18753). A transformation ``g_theta`` with continuous parameters
``theta`` is applied to the second global view ``u`` of an image,
``v2 = g_theta(u)``, and the network reconstructs the ``K`` intermediate
images ``u_k = g_{theta_k}(u)`` with ``theta_k = k * theta / (K + 1)``,
``k = 1..K``. The parameters are interpolated *linearly* (as in the paper),
so ``k = 0`` is the identity and ``k = K + 1`` is ``v2`` itself.

Conventions shared by every family
----------------------------------
* Images are float tensors ``(B, 3, H, W)`` holding RGB values in ``[0, 1]``;
  outputs have the same shape, dtype and device and stay in ``[0, 1]``.
* ``theta`` is a ``(B, dim)`` tensor (one row per image); :meth:`apply` casts
  it to the image's dtype and device.
* :meth:`apply` is fully batched (no Python loop over the batch, no
  host-device synchronisation) and does not need gradients (it works under
  ``torch.no_grad()`` and without it).
* A row with ``theta == 0`` returns the input image bit for bit (selected
  with :func:`torch.where`, not by Python branching).
* :meth:`sample` draws uniform parameters with torch's generator on a given
  device (the one θ sampler, :mod:`mmequi.param_transforms.sampling`).
"""
import math
from numbers import Real
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .sampling import sample_uniform, scale_unit

__all__ = ['ParamTransform', 'check_range', 'se2_warp',
           'rotation_extent', 'leak_free_window', 'window_is_leak_free']


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_range(name: str, value: Any, low_bound: float, high_bound: float,
                symmetric: bool = True) -> Tuple[float, float]:
    """Validate a parameter range and return it as ``(low, high)`` floats.

    Args:
        name: argument name, used in the error messages.
        value: a number ``x`` (only when ``symmetric``; the range is then
            ``[-x, x]`` and ``x`` must be ``>= 0``) or a pair ``(low, high)``.
        low_bound, high_bound: the range must lie in
            ``[low_bound, high_bound]``.
        symmetric: whether a single number is accepted.

    Raises:
        TypeError: ``value`` is neither a number nor a pair of numbers.
        ValueError: a bound is not finite, ``low > high``, a single number is
            negative, or the range leaves ``[low_bound, high_bound]``.
    """
    if _is_number(value):
        if not symmetric:
            raise TypeError(f'{name} must be a (low, high) pair of numbers, '
                            f'got {value!r}')
        if not math.isfinite(value) or value < 0:
            raise ValueError(f'{name} must be a finite number >= 0 (the range '
                             f'is [-{name}, {name}]), got {value!r}')
        low, high = -float(value), float(value)
    elif (isinstance(value, (Sequence, np.ndarray))
          and not isinstance(value, str) and len(value) == 2
          and all(_is_number(v) for v in value)):
        low, high = float(value[0]), float(value[1])
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f'{name} bounds must be finite, got {value!r}')
        if low > high:
            raise ValueError(f'{name} must satisfy low <= high, got {value!r}')
    else:
        kind = 'a number >= 0 or ' if symmetric else ''
        raise TypeError(f'{name} must be {kind}a (low, high) pair of numbers, '
                        f'got {value!r}')
    if low < low_bound or high > high_bound:
        raise ValueError(f'{name} range [{low}, {high}] must lie within '
                         f'[{low_bound}, {high_bound}]')
    return low, high


def se2_warp(img: torch.Tensor, angle: Optional[torch.Tensor],
             shift: Optional[torch.Tensor],
             window: Optional[float] = None,
             out_size: Optional[int] = None) -> torch.Tensor:
    """Rotate about the image centre, then translate (``g = T o R``), with a
    single bilinear :func:`torch.nn.functional.grid_sample`; optionally
    look at the result through a centred square window and resample that
    to another size (the leak-free probe protocol, see
    :func:`leak_free_window`).

    Geometry (pixel coordinates, ``x`` right, ``y`` down, pixel centres at
    integer positions, ``align_corners=False``): with ``X = x - (W - 1) / 2``
    and ``Y = y - (H - 1) / 2`` the content at ``(X, Y)`` moves to
    ``R (X, Y) + (tx, ty)`` where ``R = [[cos a, sin a], [-sin a, cos a]]``,
    i.e. a positive angle turns the content counter-clockwise as seen on the
    screen (torchvision's convention) and positive ``tx`` / ``ty`` move it
    right / down. Each output pixel ``q`` samples the input at
    ``R^-1 (q - t)``; samples outside the image read zeros.

    With ``window = s`` (input pixels) and ``out_size = n`` the output is
    ``(B, C, n, n)``: output pixel ``j`` shows the transformed image at the
    offset ``X = ((2 j + 1) / n - 1) s / 2`` from the centre, i.e. the
    central ``s x s`` window scaled to ``n x n`` in the same resampling (so
    the untransformed view, ``angle = shift = None``, is resampled exactly
    like a transformed one).

    Args:
        img: ``(B, C, H, W)`` float images.
        angle: ``(B,)`` angles in degrees, or None for no rotation.
        shift: ``(B, 2)`` shifts ``(tx, ty)`` in pixels, or None.
        window: side of the centred window in input pixels; None: the
            whole image (``W x H``).
        out_size: output side with ``window``; None: ``window`` rounded.

    Returns:
        ``(B, C, H, W)`` warped images, or ``(B, C, n, n)`` with a window.
        No exact-identity special case here (callers add it).
    """
    b, c, h, w = img.shape
    if window is None:
        win_w, win_h, out_hw = float(w), float(h), (h, w)
    else:
        if not window > 0:
            raise ValueError(f'window={window} must be > 0')
        n = int(out_size) if out_size is not None else int(round(window))
        if n < 1:
            raise ValueError(f'out_size={out_size} must be >= 1')
        win_w = win_h = float(window)
        out_hw = (n, n)
    if img.numel() == 0:  # affine_grid rejects empty batches
        return img.new_zeros(b, c, *out_hw)
    dtype, device = img.dtype, img.device
    if angle is None:
        cos = torch.ones(b, dtype=dtype, device=device)
        sin = torch.zeros(b, dtype=dtype, device=device)
    else:
        rad = angle.to(dtype) * (math.pi / 180.0)
        cos, sin = torch.cos(rad), torch.sin(rad)
    if shift is None:
        tx = ty = torch.zeros(b, dtype=dtype, device=device)
    else:
        tx, ty = shift.to(dtype).unbind(dim=1)
    # Normalised coordinates (align_corners=False): X = x_n * W / 2,
    # Y = y_n * H / 2, i.e. pixel = D @ normalised with D = diag(W/2, H/2).
    # An output pixel at q_n (normalised) shows the window offset S q_n,
    # S = diag(win_w/2, win_h/2) (S = D without a window); it samples the
    # input at D^-1 R^-1 (S q_n - t) with R^-1 = [[cos, -sin], [sin, cos]].
    row0 = torch.stack(
        [cos * (win_w / w), -sin * (win_h / w),
         -(cos * tx - sin * ty) * (2.0 / w)], dim=1)
    row1 = torch.stack(
        [sin * (win_w / h), cos * (win_h / h),
         -(sin * tx + cos * ty) * (2.0 / h)], dim=1)
    matrix = torch.stack([row0, row1], dim=1)  # (B, 2, 3)
    grid = F.affine_grid(matrix, [b, c, *out_hw], align_corners=False)
    return F.grid_sample(img, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=False)


def rotation_extent(low: float, high: float) -> float:
    """``max |cos φ| + |sin φ|`` for φ in ``[low, high]`` degrees
    (``sqrt(2)`` once an odd multiple of 45° lies in the range)."""
    k0, k1 = math.ceil((low - 45.0) / 90.0), math.floor((high - 45.0) / 90.0)
    if k0 <= k1:
        return math.sqrt(2.0)
    return max(abs(math.cos(math.radians(a))) + abs(math.sin(math.radians(a)))
               for a in (low, high))


def leak_free_window(size: int, out_size: int,
                     extents: Sequence[Tuple[float, float]]) -> int:
    """The largest window side ``s`` (input pixels) such that every sample
    of :func:`se2_warp` with ``window=s, out_size=out_size`` lies inside the
    ``size x size`` image for every θ of the given families, so no output
    pixel mixes in the zero fill: with ``a = (1 - 1/out_size) s / 2`` (the
    offset of the outermost output pixel centre) and ``(f, m)`` of each
    family (:meth:`ParamTransform.max_extent`),
    ``(a + m) f <= (size - 1) / 2``.

    Raises:
        ValueError: no window of at least one pixel fits.
    """
    if size < 2 or out_size < 1:
        raise ValueError(f'size={size} must be >= 2, out_size={out_size} '
                         '>= 1')
    half = (size - 1) / 2.0
    best = float('inf')
    for f, m in extents:
        best = min(best, 2.0 * (half / f - m) / (1.0 - 1.0 / out_size)
                   if out_size > 1 else float('inf'))
    s = int(math.floor(best + 1e-9)) if math.isfinite(best) else size
    s = min(s, size)
    if s < 1:
        raise ValueError(f'no leak-free window fits a {size} px image for '
                         f'(rotation factor, shift) = {list(extents)}')
    return s


def window_is_leak_free(size: int, window: float, out_size: int,
                        extents: Sequence[Tuple[float, float]]) -> bool:
    """Whether :func:`se2_warp` with this window never samples outside a
    ``size x size`` image (see :func:`leak_free_window`)."""
    a = (1.0 - 1.0 / out_size) * window / 2.0
    return all((a + m) * f <= (size - 1) / 2.0 + 1e-6 for f, m in extents)


class ParamTransform:
    """A family of image transformations ``g_theta`` with continuous
    parameters ``theta`` of size :attr:`dim` (Wang et al., AAAI-26,
    arXiv:2503.18753).

    Subclasses set :attr:`name`, :attr:`dim`, the sampling range
    (:attr:`low`, :attr:`high`, each ``(dim,)``) and implement
    :meth:`_apply`; geometric families implement :meth:`warp` instead
    (one :func:`se2_warp` per batch, exact identity where ``theta == 0``).
    """

    #: Family name (the ``type`` in :func:`build_param_transform`).
    name: str = ''
    #: Number of parameters.
    dim: int = 0

    def __init__(self, low: Sequence[float], high: Sequence[float]) -> None:
        self.low = np.asarray(low, dtype=np.float64).reshape(self.dim)
        self.high = np.asarray(high, dtype=np.float64).reshape(self.dim)

    # ------------------------------------------------------------------ API
    def warp(self, theta: torch.Tensor
             ) -> Optional[Tuple[Optional[torch.Tensor],
                                 Optional[torch.Tensor]]]:
        """``(angle (B,), shift (B, 2))`` of a geometric family (either may
        be None) for :func:`se2_warp`, or None for a family that changes
        pixel values in place (colour, blur)."""
        return None

    def max_extent(self) -> Tuple[float, float]:
        """``(f, m)``: the largest ``|cos φ| + |sin φ|`` over the angle
        range and the largest ``|t|`` per axis over the shift range (``(1,
        0)`` for non-geometric families). A point at offset ``X`` from the
        centre (``|X|_inf <= a``) of ``g_θ(I)`` comes from ``I`` at
        ``R^-1 (X - t)``, whose offset is at most ``(a + m) f`` per axis."""
        return 1.0, 0.0

    def sample(self, n: int, device: Union[str, torch.device, None] = None,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw ``n`` parameter vectors uniformly in the configured ranges
        (:func:`~mmequi.param_transforms.sampling.sample_uniform` with
        float32 bounds on ``device``).

        Args:
            n: number of draws (``>= 0``).
            device: where to draw (None: the default device).
            generator: a ``torch.Generator`` of that device; None uses
                torch's global generator (seeded by the runner).

        Returns:
            ``(n, dim)`` float32 tensor on ``device``.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) \
                or n < 0:
            raise ValueError(f'n must be an int >= 0, got {n!r}')
        low = torch.as_tensor(self.low, dtype=torch.float32, device=device)
        high = torch.as_tensor(self.high, dtype=torch.float32, device=device)
        return sample_uniform((int(n), self.dim), low, high, device=device,
                              generator=generator)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms ``u`` in ``[0, 1)`` ``(n, dim)`` (e.g. hashed ones)
        to parameters ``low + (high - low) * u``, float64
        (:func:`~mmequi.param_transforms.sampling.scale_unit`)."""
        return scale_unit(np.asarray(u, dtype=np.float64), self.low,
                          self.high)

    def apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Apply ``g_theta`` to every image of a batch.

        Args:
            img: ``(B, 3, H, W)`` float RGB images in ``[0, 1]``.
            theta: ``(B, dim)`` parameters (tensor or array-like; cast to the
                image's dtype and device).

        Returns:
            ``(B, 3, H, W)`` transformed images in ``[0, 1]``; rows with
            ``theta == 0`` equal the input exactly.
        """
        self._check_img(img)
        theta = self._check_theta(theta, img)
        return self._apply(img, theta)

    def scale(self, theta: torch.Tensor,
              t: Union[float, torch.Tensor]) -> torch.Tensor:
        """Interpolated parameters ``theta_t = t * theta`` (linear in the
        parameters, as in the paper; ``theta_0`` is the identity and
        ``theta_1 = theta``).

        Args:
            theta: ``(B, dim)`` parameters.
            t: a float in ``[0, 1]`` or a ``(B,)`` tensor (one ``t`` per row).

        Returns:
            ``(B, dim)`` tensor.
        """
        theta = torch.as_tensor(theta)
        if not theta.is_floating_point():
            theta = theta.float()
        if isinstance(t, torch.Tensor):
            t = t.to(device=theta.device, dtype=theta.dtype)
            if t.dim() == 0:
                return theta * t
            if t.shape != (theta.shape[0], ):
                raise ValueError(f't must be a float or a ({theta.shape[0]},) '
                                 f'tensor, got shape {tuple(t.shape)}')
            return theta * t[:, None]
        if not _is_number(t) or not 0.0 <= t <= 1.0:
            raise ValueError(f't must be in [0, 1], got {t!r}')
        return theta * float(t)

    def intermediate(self, img: torch.Tensor, theta: torch.Tensor,
                     num: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """The transformed view and the ``num`` intermediate targets.

        All ``num + 1`` outputs come from one batched :meth:`apply` call on
        ``(num + 1) * B`` samples.

        Args:
            img: ``(B, 3, H, W)`` float images in ``[0, 1]`` (the view ``u``).
            theta: ``(B, dim)`` parameters.
            num: number of intermediate targets ``K >= 0`` (0: only
                ``v2``; ``targets`` is then ``(0, B, 3, H, W)``).

        Returns:
            ``(v2, targets)``: ``v2 = apply(img, theta)`` ``(B, 3, H, W)`` and
            ``targets`` ``(num, B, 3, H, W)`` with
            ``targets[k - 1] = apply(img, scale(theta, k / (num + 1)))``.
        """
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) \
                or num < 0:
            raise ValueError(f'num must be an int >= 0, got {num!r}')
        num = int(num)
        self._check_img(img)
        theta = self._check_theta(theta, img)
        b = img.shape[0]
        fractions = [1.0] + [k / (num + 1) for k in range(1, num + 1)]
        thetas = torch.cat([self.scale(theta, f) for f in fractions], dim=0)
        imgs = img.unsqueeze(0).expand(num + 1, *img.shape).reshape(
            (num + 1) * b, *img.shape[1:])
        out = self._apply(imgs, thetas).reshape(num + 1, *img.shape)
        return out[0], out[1:]

    # ------------------------------------------------------------ internals
    def _apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        warp = self.warp(theta)
        if warp is None:
            raise NotImplementedError(
                f'{type(self).__name__} implements neither _apply nor warp')
        out = se2_warp(img, *warp)
        return torch.where(self._identity_rows(theta), img, out)

    @staticmethod
    def _identity_rows(theta: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 1, 1)`` bool, True where the whole row of theta is 0."""
        return (theta == 0).all(dim=1)[:, None, None, None]

    @staticmethod
    def _check_img(img: torch.Tensor) -> None:
        if not isinstance(img, torch.Tensor):
            raise TypeError(f'img must be a torch.Tensor, got {type(img)}')
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError('img must have shape (B, 3, H, W), got '
                             f'{tuple(img.shape)}')
        if not img.is_floating_point():
            raise TypeError('img must be a float tensor in [0, 1], got '
                            f'{img.dtype}')

    def _check_theta(self, theta: Any, img: torch.Tensor) -> torch.Tensor:
        theta = torch.as_tensor(theta).to(device=img.device, dtype=img.dtype)
        if theta.shape != (img.shape[0], self.dim):
            raise ValueError(
                f'{type(self).__name__}: theta must have shape '
                f'(B, dim) = ({img.shape[0]}, {self.dim}), got '
                f'{tuple(theta.shape)}')
        return theta

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(low={self.low.tolist()}, '
                f'high={self.high.tolist()})')
