"""lexitune: teach a small language model a glossary, and measure what it learned and forgot."""

__version__ = "0.1.0"
