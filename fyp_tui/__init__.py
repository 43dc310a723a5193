"""fyp-tui: a terminal For You feed over a tiered recommender and a simulated audience."""

__version__ = "0.1.0"
