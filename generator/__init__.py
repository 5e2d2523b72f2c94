"""Feature Atlas: class and channel visualizations of ImageNet CNNs, as a static site."""

__version__ = "0.1.0"
