"""Datasets: windows, cleaning, de-duplication, splits, QC and the dataset dir format."""
