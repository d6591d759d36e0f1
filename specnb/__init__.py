"""specnb: how 2D audio representations shape CNN accuracy and adversarial robustness."""

__version__ = "0.1.0"
