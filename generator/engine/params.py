"""Image parameterizations: what the optimizer actually changes.

- PixelImage: the image itself, clamped to [0, 1] after every step (the post's way).
- FourierImage: a 1/f-scaled spectrum (1/f^decay_power) with decorrelated colour, squashed by a sigmoid
  (Olah et al. 2017, "Feature Visualization"; Lucid's fft_image + to_valid_rgb). Its gradient
  steps are whitened: low frequencies and natural colour directions move first.

Every method works on a batch and keeps rows independent: row i only ever depends on row i.
"""

from __future__ import annotations

import math

import torch

# Square root of the colour correlation of ImageNet images (Lucid's color_correlation_svd_sqrt).
COLOR_CORRELATION_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR_MATRIX = COLOR_CORRELATION_SQRT / COLOR_CORRELATION_SQRT.norm(dim=0).max()


def gaussian_kernel1d(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def blur_images(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with reflected borders; (N, C, H, W) -> same shape."""
    k = gaussian_kernel1d(sigma).to(x)
    r = k.numel() // 2
    c = x.shape[1]
    x = torch.nn.functional.pad(x, (r, r, r, r), mode="reflect")
    x = torch.nn.functional.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return torch.nn.functional.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


class PixelImage:
    def __init__(self, init: torch.Tensor):
        self.tensor = init.clone().requires_grad_(True)  # (N, 3, H, W) in [0, 1]

    def parameters(self) -> list[torch.Tensor]:
        return [self.tensor]

    def image(self) -> torch.Tensor:
        return self.tensor

    @torch.no_grad()
    def after_step(self) -> None:
        self.tensor.clamp_(0.0, 1.0)

    @torch.no_grad()
    def blur_(self, sigma: float) -> None:
        self.tensor.copy_(blur_images(self.tensor, sigma))


def rfft_freqs(h: int, w: int) -> torch.Tensor:
    """|f| in cycles per pixel for the rfft2 grid of an h x w image."""
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


class FourierImage:
    def __init__(self, noise: torch.Tensor, decay_power: float = 1.0):
        n, c, h, w = noise.shape
        self.h, self.w = h, w
        freqs = rfft_freqs(h, w).to(noise.device)
        self.freqs = freqs
        # 1/f scaling: each frequency gets a step size proportional to its natural-image amplitude; a power above 1
        # favours large shapes over texture
        self.scale = 1.0 / freqs.clamp(min=1.0 / max(h, w)) ** decay_power
        # start from small random spectra (near-gray after the sigmoid): the noise only sets the phase
        spectrum = torch.fft.rfft2(noise, norm="ortho") / self.scale
        self.tensor = torch.view_as_real(spectrum).contiguous().requires_grad_(True)
        self.color = COLOR_MATRIX.to(noise.device)

    def parameters(self) -> list[torch.Tensor]:
        return [self.tensor]

    def image(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.tensor) * self.scale
        x = torch.fft.irfft2(spectrum, s=(self.h, self.w), norm="ortho") / 4.0
        x = (self.color @ x.flatten(2)).view_as(x)  # decorrelated -> RGB (4x faster than einsum's permutes)
        return torch.sigmoid(x)

    def after_step(self) -> None:
        pass

    @torch.no_grad()
    def blur_(self, sigma: float) -> None:
        # Gaussian blur is a product in frequency space: damp the spectrum by exp(-2 pi^2 sigma^2 f^2)
        damp = torch.exp(-2.0 * math.pi**2 * sigma**2 * self.freqs**2)
        self.tensor.mul_(damp[None, None, :, :, None])


def make_param(recipe, init: torch.Tensor):
    """``init`` is the starting image in [0, 1] (pixel) or its pre-sigmoid noise (fourier)."""
    if recipe.param == "pixel":
        return PixelImage(init)
    return FourierImage(init, recipe.decay_power)
